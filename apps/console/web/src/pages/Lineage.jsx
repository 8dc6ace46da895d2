import { useEffect, useState } from 'react';
import { api } from '../api.js';
import { Json, Problem, PurposeSelect, ms, time, useAsync } from './common.jsx';

export function Lineage({ arg }) {
  const [kind, setKind] = useState('control');
  const [q, setQ] = useState('');
  const [purpose, setPurpose] = useState('');
  const [found, setFound] = useState(null);
  const search = useAsync();

  const submit = (e) => {
    e.preventDefault();
    search.run(async () => {
      const qs = new URLSearchParams({ kind, q, ...(purpose ? { purpose } : {}) });
      const { data } = await api('GET', `/api/lineage?${qs}`);
      setFound(data);
      if (data.correlationIds.length === 1) window.location.hash = `#/lineage/${encodeURIComponent(data.correlationIds[0])}`;
    });
  };

  return (
    <>
      <form className="inline" onSubmit={submit} aria-label="Search lineage">
        <label htmlFor="kind">Search by
          <select id="kind" value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="control">Control id (MSH-10)</option>
            <option value="correlation">Correlation id</option>
            <option value="event">Event id</option>
            <option value="patient">Patient identifier (system|value)</option>
          </select>
        </label>
        <label htmlFor="q">Value<input id="q" value={q} onChange={(e) => setQ(e.target.value)} /></label>
        {kind === 'patient' && <PurposeSelect value={purpose} onChange={setPurpose} id="search-purpose" />}
        <button type="submit" disabled={search.busy || !q.trim()}>Search</button>
      </form>
      <Problem error={search.error} />
      {found && (
        <section aria-label="Search results">
          <p>{found.correlationIds.length} message(s) found.</p>
          <ul>{found.correlationIds.map((c) => <li key={c}><a href={`#/lineage/${encodeURIComponent(c)}`}>{c}</a></li>)}</ul>
          {found.notes.map((n) => <p key={n} className="unavailable">{n}</p>)}
        </section>
      )}
      {arg && <LineageView correlationId={decodeURIComponent(arg)} />}
    </>
  );
}

function LineageView({ correlationId }) {
  const [data, setData] = useState(null);
  const [purpose, setPurpose] = useState('');
  const load = useAsync();
  const fetchIt = (reveal) => load.run(async () => {
    const qs = new URLSearchParams(reveal ? { reveal: 'true', purpose } : {});
    setData((await api('GET', `/api/lineage/${encodeURIComponent(correlationId)}?${qs}`)).data);
  });
  useEffect(() => { fetchIt(false); }, [correlationId]);

  return (
    <section aria-label="Lineage" data-testid="lineage">
      <h3>Message {correlationId}</h3>
      <form className="inline" onSubmit={(e) => { e.preventDefault(); fetchIt(true); }} aria-label="Reveal patient identifiers">
        <PurposeSelect value={purpose} onChange={setPurpose} id="reveal-purpose" />
        <button type="submit" disabled={!purpose || load.busy}>Reveal patient identifiers</button>
        <span>{data?.revealed ? `Revealed for ${data.revealed.purpose} (audited)` : 'Patient identifiers are masked.'}</span>
      </form>
      <Problem error={load.error} />
      {data && <Source source={data.source} />}
      {data && data.stages.map((s) => <Stage key={s.stage} stage={s} />)}
    </section>
  );
}

function Source({ source }) {
  if (!source) return <p className="unavailable">Source message: not available.</p>;
  return (
    <div className="stage" data-testid="source">
      <h3>Source message ({source.format})</h3>
      <details><summary>Raw</summary><Json value={source.raw} /></details>
      {source.segments && (
        <table aria-label="HL7 v2 fields">
          <thead><tr><th scope="col">Field</th><th scope="col">Name</th><th scope="col">Value</th></tr></thead>
          <tbody>
            {source.segments.flatMap((seg) => seg.fields.map((f) => (
              <tr key={`${seg.segment}${seg.index}-${f.ref}`}><td>{f.ref}{seg.index > 1 ? ` (#${seg.index})` : ''}</td><td>{f.name ?? ''}</td><td>{f.value}</td></tr>
            )))}
          </tbody>
        </table>
      )}
      {source.json && <Json value={source.json} />}
    </div>
  );
}

function Stage({ stage }) {
  return (
    <div className="stage" data-testid={`stage-${stage.stage}`}>
      <h3>{stage.stage} <small>({stage.service})</small></h3>
      {!stage.available ? <p className="unavailable">{stage.problem}</p> : (
        <>
          <p>Started {time(stage.startedAt)} · finished {time(stage.finishedAt)} · took <span data-testid={`timing-${stage.stage}`}>{ms(stage.startedAt, stage.finishedAt)}</span></p>
          {stage.items.length > 0 && (
            <table aria-label={`${stage.stage} records`}>
              <thead><tr><th scope="col">What</th><th scope="col">When</th><th scope="col">Summary</th><th scope="col">Detail</th></tr></thead>
              <tbody>{stage.items.map((i, n) => (
                <tr key={i.id ?? n} data-kind={i.kind}><td>{i.kind}</td><td>{time(i.at)}</td><td>{i.summary}</td><td><details><summary>data</summary><Json value={i.data} /></details></td></tr>
              ))}</tbody>
            </table>
          )}
          {stage.emitted.length > 0 && (
            <table aria-label={`${stage.stage} events emitted`}>
              <thead><tr><th scope="col">Event</th><th scope="col">Topic</th><th scope="col">Consumed cause</th><th scope="col">Written</th><th scope="col">Published</th><th scope="col">Value</th></tr></thead>
              <tbody>{stage.emitted.map((e) => (
                <tr key={e.eventId}><td>{e.eventType ?? ''} <code>{e.eventId}</code></td><td>{e.topic}</td><td>{time(e.consumedAt)}</td><td>{time(e.createdAt)}</td><td>{time(e.publishedAt)}</td>
                  <td><details><summary>decoded</summary><Json value={e.value ?? e.decodeError} /></details></td></tr>
              ))}</tbody>
            </table>
          )}
          {stage.deadLetters.length > 0 && <p className="error">{stage.deadLetters.length} dead letter(s): {stage.deadLetters.map((d) => `${d.errorCode} (${d.status})`).join(', ')}</p>}
          {stage.items.length === 0 && stage.emitted.length === 0 && stage.deadLetters.length === 0 && <p>Nothing recorded for this message.</p>}
        </>
      )}
    </div>
  );
}
