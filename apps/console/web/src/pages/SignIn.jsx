import { useState } from 'react';
import { api } from '../api.js';
import { Problem, useAsync } from './common.jsx';

export function SignIn({ onSignedIn }) {
  const [token, setToken] = useState('');
  const { busy, error, run } = useAsync();
  const submit = (e) => {
    e.preventDefault();
    run(async () => onSignedIn((await api('POST', '/api/session', { body: { token } })).data));
  };
  return (
    <main>
      <h1>Sign in to the clinmesh console</h1>
      <p>Paste your bearer token. In embedded mode, the developer token is <code>developerToken</code> in <code>.clinmesh/runtime.json</code>. The token stays on the console server; your browser only holds a session cookie.</p>
      <form onSubmit={submit}>
        <label htmlFor="token">Bearer token
          <textarea id="token" rows={4} cols={80} value={token} onChange={(e) => setToken(e.target.value)} autoComplete="off" />
        </label>
        <p><button type="submit" disabled={busy || !token.trim()}>Sign in</button></p>
      </form>
      <Problem error={error} />
    </main>
  );
}
