import { useState } from 'react';
import { api } from '../api.js';
import { Json, Problem, PurposeSelect, useAsync } from './common.jsx';

export function Consents() {
  const [patient, setPatient] = useState('');
  const [purpose, setPurpose] = useState('');
  const [correlationId, setCorrelationId] = useState('');
  const [consents, setConsents] = useState(null);
  const [decisions, setDecisions] = useState(null);
  const c = useAsync();
  const d = useAsync();
  return (
    <>
      <h3>A patient's consents</h3>
      <form className="inline" aria-label="Look up consents" onSubmit={(e) => { e.preventDefault(); c.run(async () => setConsents((await api('GET', `/api/consents?${new URLSearchParams({ patient, purpose })}`)).data)); }}>
        <label htmlFor="c-patient">Patient (EPID)<input id="c-patient" value={patient} onChange={(e) => setPatient(e.target.value)} /></label>
        <PurposeSelect value={purpose} onChange={setPurpose} id="c-purpose" />
        <button type="submit" disabled={!patient || !purpose}>Look up</button>
      </form>
      <Problem error={c.error} />
      {consents && <Json value={consents} />}
      <h3>Decisions made for an event</h3>
      <form className="inline" aria-label="Look up decisions" onSubmit={(e) => { e.preventDefault(); d.run(async () => setDecisions((await api('GET', `/api/decisions?${new URLSearchParams({ correlationId })}`)).data)); }}>
        <label htmlFor="d-corr">Correlation id<input id="d-corr" value={correlationId} onChange={(e) => setCorrelationId(e.target.value)} /></label>
        <button type="submit" disabled={!correlationId}>Look up</button>
      </form>
      <Problem error={d.error} />
      {decisions && <Json value={decisions} />}
    </>
  );
}
