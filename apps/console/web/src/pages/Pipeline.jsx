import { useEffect, useState } from 'react';
import { api } from '../api.js';
import { Problem, useAsync } from './common.jsx';

const TIERS = ['stat', 'urgent', 'routine', 'bulk'];
const fmt = (v, unit = '') => (v === null || v === undefined ? '—' : `${Number.isInteger(v) ? v : v.toFixed(3)}${unit}`);

export function Pipeline() {
  const [data, setData] = useState(null);
  const load = useAsync();
  const refresh = () => load.run(async () => setData((await api('GET', '/api/pipeline')).data));
  useEffect(() => {
    refresh();
    const t = setInterval(refresh, 10000);
    return () => clearInterval(t);
  }, []);
  return (
    <>
      <p>Live from each service's <code>/metrics</code> and <code>/v1/admin/consumers</code>; refreshed every 10 s. {data && `As of ${data.at}.`}</p>
      <Problem error={load.error} />
      {data && (
        <table aria-label="Stages by tier">
          <thead>
            <tr><th scope="col">Stage</th>{TIERS.map((t) => <th scope="col" key={t}>{t}: processed · p50 / p99 · lag · dead</th>)}<th scope="col">Outbox backlog</th><th scope="col">Offset loss</th></tr>
          </thead>
          <tbody>
            {data.services.map((s) => (
              <tr key={s.service}>
                <th scope="row">{s.service}</th>
                {s.available ? TIERS.map((t) => {
                  const x = s.tiers[t];
                  return <td key={t}>{fmt(x.processed)} · {fmt(x.p50, 's')} / {fmt(x.p99, 's')} · {fmt(x.lag)} · {fmt(x.deadLetters)}</td>;
                }) : <td colSpan={4} className="unavailable">{s.problem}</td>}
                <td>{fmt(s.outboxBacklog)}</td>
                <td className={s.offsetLoss ? 'error' : ''}>{s.offsetLoss ? 'ALARM' : fmt(s.offsetLoss)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data && <History samples={data.history} />}
    </>
  );
}

/** Stat p99 latency and total lag over the last hour (the console backend's ring buffer). */
function History({ samples }) {
  if (!samples.length) return <p>No samples yet (the console samples every few seconds once an admin has signed in).</p>;
  const w = 600;
  const h = 120;
  const t0 = Date.parse(samples[0].at);
  const t1 = Math.max(Date.parse(samples[samples.length - 1].at), t0 + 1);
  const maxP = Math.max(0.001, ...samples.map((s) => s.statP99 ?? 0));
  const maxL = Math.max(1, ...samples.map((s) => s.totalLag));
  const x = (s) => ((Date.parse(s.at) - t0) / (t1 - t0)) * (w - 40) + 30;
  const line = (f, max) => samples.map((s) => `${x(s)},${h - 15 - (f(s) / max) * (h - 30)}`).join(' ');
  return (
    <figure>
      <svg width={w} height={h} role="img" aria-label={`Stat p99 latency (max ${maxP.toFixed(3)} s) and consumer lag (max ${maxL}) over the last hour`}>
        <polyline fill="none" stroke="#b00020" strokeWidth="2" points={line((s) => s.statP99 ?? 0, maxP)} />
        <polyline fill="none" stroke="#004c99" strokeWidth="2" points={line((s) => s.totalLag, maxL)} />
        <text x="30" y="12">red: stat p99 (max {maxP.toFixed(3)} s) · blue: lag (max {maxL})</text>
      </svg>
      <figcaption>Last hour, {samples.length} samples.</figcaption>
    </figure>
  );
}
