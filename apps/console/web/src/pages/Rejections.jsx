import { useEffect, useState } from 'react';
import { api } from '../api.js';
import { Problem, time, useAsync } from './common.jsx';

export function Rejections() {
  const [data, setData] = useState(null);
  const load = useAsync();
  useEffect(() => { load.run(async () => setData((await api('GET', '/api/rejections')).data)); }, []);
  return (
    <>
      <p>Messages ingest refused, kept with their reason; the NAK sent is the reason and detail below (MSA AE/AR with ERR).</p>
      <Problem error={load.error} />
      {data && (
        <table aria-label="Ingest rejections">
          <thead><tr><th scope="col">Received</th><th scope="col">Sender</th><th scope="col">Type</th><th scope="col">Control id</th><th scope="col">Reason</th><th scope="col">NAK detail</th></tr></thead>
          <tbody>
            {data.rejections.length === 0 && <tr><td colSpan={6}>No rejections.</td></tr>}
            {data.rejections.map((r) => <tr key={r.id}><td>{time(r.receivedAt)}</td><td>{r.sender}</td><td>{r.messageType ?? '—'}</td><td>{r.controlId ?? '—'}</td><td>{r.reason}</td><td>{r.detail}</td></tr>)}
          </tbody>
        </table>
      )}
    </>
  );
}
