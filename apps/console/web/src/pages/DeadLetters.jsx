import { useEffect, useState } from 'react';
import { api } from '../api.js';
import { Json, Problem, time, useAsync } from './common.jsx';

const SERVICES = ['', 'ingest', 'identity-resolution', 'normalization', 'policy', 'task', 'notifier'];

export function DeadLetters({ session }) {
  const [filter, setFilter] = useState({ service: '', status: 'dead', errorCode: '' });
  const [data, setData] = useState(null);
  const [detail, setDetail] = useState(null);
  const [message, setMessage] = useState('');
  const load = useAsync();
  const act = useAsync();

  const refresh = () => load.run(async () => {
    const qs = new URLSearchParams(Object.entries(filter).filter(([, v]) => v));
    setData((await api('GET', `/api/dead-letters?${qs}`)).data);
  });
  useEffect(() => { refresh(); }, []);

  const redrive = (d) => act.run(async () => {
    const { data: r } = await api('POST', `/api/dead-letters/${d.service}/${encodeURIComponent(d.id)}/redrive`);
    setMessage(`Redrive of ${d.id}: ${r.status}${r.error ? ` (${r.error})` : ''}`);
    await refresh();
  });
  const redriveFiltered = () => act.run(async () => {
    const { data: r } = await api('POST', '/api/dead-letters/redrive', { body: { service: filter.service || undefined, errorCode: filter.errorCode || undefined } });
    const n = r.results.reduce((a, s) => a + (s.results?.length ?? 0), 0);
    setMessage(`Redrove ${n} dead letter(s) matching the filter.`);
    await refresh();
  });
  const show = (d) => act.run(async () => setDetail((await api('GET', `/api/dead-letters/${d.service}/${encodeURIComponent(d.id)}`)).data));
  const admin = session.role === 'admin' && data?.canRedrive;

  return (
    <>
      <form className="inline" aria-label="Filter dead letters" onSubmit={(e) => { e.preventDefault(); refresh(); }}>
        <label htmlFor="dl-service">Service
          <select id="dl-service" value={filter.service} onChange={(e) => setFilter({ ...filter, service: e.target.value })}>
            {SERVICES.map((s) => <option key={s} value={s}>{s || 'all'}</option>)}
          </select>
        </label>
        <label htmlFor="dl-status">Status
          <select id="dl-status" value={filter.status} onChange={(e) => setFilter({ ...filter, status: e.target.value })}>
            <option value="dead">dead</option><option value="redriven">redriven</option><option value="">all</option>
          </select>
        </label>
        <label htmlFor="dl-code">Reason (error code)<input id="dl-code" value={filter.errorCode} onChange={(e) => setFilter({ ...filter, errorCode: e.target.value })} /></label>
        <button type="submit">Apply</button>
        {admin && <button type="button" onClick={redriveFiltered} disabled={act.busy}>Redrive all matching</button>}
      </form>
      <p role="status">{message}</p>
      <Problem error={load.error || act.error} />
      {data?.unavailable?.map((u) => <p key={u.service} className="unavailable">{u.service}: {u.problem}</p>)}
      {data && (
        <table aria-label="Dead letters">
          <thead><tr><th scope="col">Service</th><th scope="col">Consumer</th><th scope="col">Reason</th><th scope="col">Failed at</th><th scope="col">Status</th><th scope="col">Correlation</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            {data.deadLetters.length === 0 && <tr><td colSpan={7}>No dead letters.</td></tr>}
            {data.deadLetters.map((d) => (
              <tr key={`${d.service}/${d.id}`} data-testid="dead-letter" data-correlation={d.correlationId}>
                <td>{d.service}</td><td>{d.consumerGroup}</td><td>{d.errorCode}: {d.errorMessage}</td><td>{time(d.failedAt)}</td><td>{d.status}</td>
                <td>{d.correlationId ? <a href={`#/lineage/${encodeURIComponent(d.correlationId)}`}>{d.correlationId}</a> : '—'}</td>
                <td>
                  <button type="button" onClick={() => show(d)}>Payload</button>{' '}
                  {admin && d.status === 'dead' && <button type="button" onClick={() => redrive(d)} disabled={act.busy}>Redrive</button>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {detail && (
        <section aria-label="Dead letter payload">
          <h3>Dead letter {detail.id} ({detail.service})</h3>
          {detail.decodeError && <p className="unavailable">Not decodable through the registry: {detail.decodeError} (raw bytes shown base64)</p>}
          <Json value={detail.value} />
        </section>
      )}
    </>
  );
}
