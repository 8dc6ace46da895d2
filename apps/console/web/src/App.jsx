import { useEffect, useState } from 'react';
import { api, setCsrf } from './api.js';
import { SignIn } from './pages/SignIn.jsx';
import { Pipeline } from './pages/Pipeline.jsx';
import { Lineage } from './pages/Lineage.jsx';
import { DeadLetters } from './pages/DeadLetters.jsx';
import { Rejections } from './pages/Rejections.jsx';
import { Review } from './pages/Review.jsx';
import { Worklist } from './pages/Worklist.jsx';
import { Consents } from './pages/Consents.jsx';
import { Audit } from './pages/Audit.jsx';

const PAGES = [
  ['pipeline', 'Pipeline', Pipeline],
  ['lineage', 'Lineage', Lineage],
  ['dead-letters', 'Dead letters', DeadLetters],
  ['rejections', 'Rejections', Rejections],
  ['review', 'Identity review', Review],
  ['worklist', 'Worklist', Worklist],
  ['consents', 'Consents & decisions', Consents],
  ['audit', 'Audit', Audit],
];

function currentRoute() {
  const [page, ...rest] = window.location.hash.replace(/^#\/?/, '').split('/');
  return { page: PAGES.some(([p]) => p === page) ? page : 'pipeline', arg: rest.join('/') || '' };
}

export function App() {
  const [session, setSession] = useState(undefined);
  const [route, setRoute] = useState(currentRoute());

  useEffect(() => {
    const onHash = () => setRoute(currentRoute());
    window.addEventListener('hashchange', onHash);
    api('GET', '/api/session').then(({ data }) => { setCsrf(data.csrf); setSession(data); }).catch(() => setSession(null));
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  if (session === undefined) return <main><p>Loading…</p></main>;
  if (!session) return <SignIn onSignedIn={(s) => { setCsrf(s.csrf); setSession(s); }} />;

  const signOut = async () => {
    await api('POST', '/api/session/logout').catch(() => undefined);
    setSession(null);
  };
  const [, title, Page] = PAGES.find(([p]) => p === route.page);
  return (
    <>
      <header>
        <h1>clinmesh console</h1>
        <nav aria-label="Console pages">
          <ul>
            {PAGES.map(([p, label]) => (
              <li key={p}><a href={`#/${p}`} aria-current={route.page === p ? 'page' : undefined}>{label}</a></li>
            ))}
          </ul>
        </nav>
        <span data-testid="who">{session.subject} ({session.role === 'admin' ? 'admin' : 'read-only operator'})</span>
        <button type="button" onClick={signOut}>Sign out</button>
      </header>
      <main>
        <h2>{title}</h2>
        <Page session={session} arg={route.arg} onExpired={() => setSession(null)} />
      </main>
    </>
  );
}
