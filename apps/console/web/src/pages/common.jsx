import { useState } from 'react';
import { PURPOSES } from '../api.js';

export function Problem({ error }) {
  if (!error) return null;
  return <p role="alert" className="error">{error.status ? `${error.status}: ` : ''}{error.message}</p>;
}

export function Json({ value }) {
  return <pre>{typeof value === 'string' ? value : JSON.stringify(value, null, 2)}</pre>;
}

export const time = (t) => (t ? new Date(t).toISOString().replace('T', ' ').replace('Z', '') : '—');

export function ms(a, b) {
  if (!a || !b) return '—';
  return `${Math.max(0, Date.parse(b) - Date.parse(a))} ms`;
}

/** Purpose-of-use picker for a reveal / patient search (the services audit it). */
export function PurposeSelect({ value, onChange, id = 'purpose' }) {
  return (
    <label htmlFor={id}>Purpose of use
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">— choose —</option>
        {PURPOSES.map(([code, label]) => <option key={code} value={code}>{code} — {label}</option>)}
      </select>
    </label>
  );
}

export function useAsync() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, setError };
}
