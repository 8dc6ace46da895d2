import { useEffect, useState } from 'react';
import { api } from '../api.js';
import { Problem, time, useAsync } from './common.jsx';

export function Worklist() {
  const [filter, setFilter] = useState({ status: 'requested,accepted,in-progress,on-hold,ready', breached: '' });
  const [data, setData] = useState(null);
  const [message, setMessage] = useState('');
  const load = useAsync();
  const act = useAsync();
  const refresh = () => load.run(async () => {
    const qs = new URLSearchParams(Object.entries(filter).filter(([, v]) => v));
    setData((await api('GET', `/api/tasks?${qs}`)).data);
  });
  useEffect(() => { refresh(); }, []);

  const transition = (task, t) => act.run(async () => {
    const fields = {};
    for (const f of t.requires ?? []) {
      const v = window.prompt(`${t.name}: ${f}?`, f === 'outcome' ? 'done' : '');
      if (v === null) return;
      fields[f] = v;
    }
    try {
      await api('POST', `/api/tasks/${encodeURIComponent(task.taskId)}/transitions`, { body: { to: t.to, ...fields }, headers: { 'if-match': `"${task.version}"` } });
      setMessage(`${t.name}: task ${task.taskId} is now ${t.to}.`);
    } catch (e) {
      if (e.status === 412 || e.status === 409) setMessage(`The task changed since it was listed (${e.status}); reloaded.`);
      else throw e;
    }
    await refresh();
  });
  const acknowledge = (task) => act.run(async () => {
    await api('POST', `/api/tasks/${encodeURIComponent(task.taskId)}/acknowledge`, { body: { method: 'phone', readBack: true }, headers: { 'if-match': `"${task.version}"` } });
    setMessage(`Acknowledged task ${task.taskId}.`);
    await refresh();
  });

  return (
    <>
      <form className="inline" aria-label="Filter tasks" onSubmit={(e) => { e.preventDefault(); refresh(); }}>
        <label htmlFor="t-status">FHIR status (comma-separated)<input id="t-status" value={filter.status} onChange={(e) => setFilter({ ...filter, status: e.target.value })} /></label>
        <label htmlFor="t-breached">SLA
          <select id="t-breached" value={filter.breached} onChange={(e) => setFilter({ ...filter, breached: e.target.value })}>
            <option value="">any</option><option value="true">breached</option><option value="false">within SLA</option>
          </select>
        </label>
        <button type="submit">Apply</button>
      </form>
      <p role="status">{message}</p>
      <Problem error={load.error || act.error} />
      {data && (
        <table aria-label="Tasks">
          <thead><tr><th scope="col">Task</th><th scope="col">Workflow</th><th scope="col">State</th><th scope="col">Tier</th><th scope="col">Owner</th><th scope="col">Due</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            {data.tasks.length === 0 && <tr><td colSpan={7}>No tasks.</td></tr>}
            {data.tasks.map((t) => (
              <tr key={t.taskId} data-testid="task" data-task-id={t.taskId} data-correlation={t.correlationId}>
                <td>{t.title}<br /><small>{t.taskId}</small></td><td>{t.workflow}</td><td data-testid="task-state">{t.state}</td><td>{t.tier}</td><td>{t.owner ?? '—'}</td><td>{time(t.dueAt ?? t.sla?.dueAt)}</td>
                <td>
                  {(data.transitions[t.workflow] ?? []).filter((x) => x.from.includes(t.state)).map((x) => (
                    <button type="button" key={x.name} onClick={() => transition(t, x)} disabled={act.busy}>{x.name}</button>
                  ))}
                  {' '}<button type="button" onClick={() => acknowledge(t)} disabled={act.busy}>Acknowledge</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
