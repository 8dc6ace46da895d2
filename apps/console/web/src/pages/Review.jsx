import { useEffect, useState } from 'react';
import { api } from '../api.js';
import { Json, Problem, time, useAsync } from './common.jsx';

export function Review() {
  const [items, setItems] = useState(null);
  const [item, setItem] = useState(null);
  const [message, setMessage] = useState('');
  const load = useAsync();
  const act = useAsync();
  const refresh = () => load.run(async () => setItems((await api('GET', '/api/review-items?status=open')).data.items));
  useEffect(() => { refresh(); }, []);
  const open = (id) => act.run(async () => {
    const { data, etag } = await api('GET', `/api/review-items/${encodeURIComponent(id)}`);
    setItem({ ...data, etag });
  });
  const decide = (decision, candidate) => act.run(async () => {
    try {
      await api('POST', `/api/review-items/${encodeURIComponent(item.id ?? item.reviewItemId)}/decision`, { body: { decision, candidate }, headers: { 'if-match': item.etag } });
      setMessage(`Decided: ${decision === 'link' ? 'linked' : 'kept apart'}.`);
      setItem(null);
      await refresh();
    } catch (e) {
      if (e.status === 412 || e.status === 409) {
        setMessage(e.status === 412 ? 'Someone changed this item since you opened it: reloaded, please decide again.' : 'This item was already decided: reloaded.');
        await open(item.id ?? item.reviewItemId);
        return;
      }
      throw e;
    }
  });
  return (
    <>
      <p role="status">{message}</p>
      <Problem error={load.error || act.error} />
      {items && (
        <table aria-label="Open review items">
          <thead><tr><th scope="col">Item</th><th scope="col">Opened</th><th scope="col">Candidates</th><th scope="col">Action</th></tr></thead>
          <tbody>
            {items.length === 0 && <tr><td colSpan={4}>The review queue is empty.</td></tr>}
            {items.map((i) => <tr key={i.id} data-testid="review-item"><td>{i.id}</td><td>{time(i.createdAt)}</td><td>{(i.candidateEpids ?? []).length}</td><td><button type="button" onClick={() => open(i.id)}>Review</button></td></tr>)}
          </tbody>
        </table>
      )}
      {item && (
        <section aria-label="Review item side by side">
          <h3>Review item {item.id} (version {item.etag})</h3>
          <div className="side">
            <div><h4>Incoming record</h4><Json value={item.record?.demographics ?? item.record} /></div>
            {(item.candidates ?? []).map((c, n) => (
              <div key={n}>
                <h4>Candidate {n + 1}</h4>
                <Json value={c} />
                <button type="button" onClick={() => decide('link', n)}>Link to candidate {n + 1}</button>
              </div>
            ))}
          </div>
          <p><button type="button" onClick={() => decide('separate')}>Keep apart</button></p>
        </section>
      )}
    </>
  );
}
