import { useEffect, useState } from 'react';
import { api } from '../api.js';
import { Problem, time, useAsync } from './common.jsx';

const SERVICES = ['ingest', 'identity-resolution', 'normalization', 'policy', 'task', 'notifier'];

export function Audit() {
  const [service, setService] = useState('ingest');
  const [entries, setEntries] = useState(null);
  const [verified, setVerified] = useState(null);
  const load = useAsync();
  const act = useAsync();
  const refresh = (s = service) => load.run(async () => setEntries((await api('GET', `/api/audit?service=${s}`)).data.entries));
  useEffect(() => { refresh(); }, []);
  const verify = () => act.run(async () => setVerified((await api('POST', '/api/audit/verify', { body: {} })).data.results));
  return (
    <>
      <form className="inline" aria-label="Choose audit trail" onSubmit={(e) => { e.preventDefault(); refresh(); }}>
        <label htmlFor="a-service">Service
          <select id="a-service" value={service} onChange={(e) => setService(e.target.value)}>{SERVICES.map((s) => <option key={s}>{s}</option>)}</select>
        </label>
        <button type="submit">Show</button>
        <button type="button" onClick={verify} disabled={act.busy}>Verify every hash chain</button>
      </form>
      <Problem error={load.error || act.error} />
      {verified && (
        <ul aria-label="Verification results">
          {verified.map((v) => <li key={v.service} className={v.ok ? 'ok' : 'error'}>{v.service}: {v.problem ?? (v.ok ? `chain intact (${v.entries} entries)` : `BROKEN at entry ${v.brokenAt}`)}</li>)}
        </ul>
      )}
      {entries && (
        <table aria-label="Audit entries">
          <thead><tr><th scope="col">#</th><th scope="col">At</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Resource</th><th scope="col">Patient</th><th scope="col">Purpose</th><th scope="col">Outcome</th></tr></thead>
          <tbody>{entries.map((e) => <tr key={e.seq}><td>{e.seq}</td><td>{time(e.at)}</td><td>{e.actor}</td><td>{e.action}</td><td>{e.resource}</td><td>{e.patient_ref ?? '—'}</td><td>{e.purpose ?? '—'}</td><td>{e.outcome}</td></tr>)}</tbody>
        </table>
      )}
    </>
  );
}
