/**
 * @module
 * The dashboard's frame: a skip link, a header with the navigation, and the page for the
 * current hash route in the main landmark. Without a stored token, or when the node refuses
 * it, the login page shows instead.
 */
import { useEffect, useState } from 'preact/hooks';
import { storedToken, storeToken, whenUnauthorized } from './api.ts';
import { Login } from './login.tsx';
import { href, useRoute } from './router.ts';
import type { Route } from './router.ts';
import { FunctionsPage } from './functions-page.tsx';
import { FunctionPage } from './function-page.tsx';
import { QueuesPage } from './queues-page.tsx';
import { WorkflowsPage, StateMachinePage } from './workflows-page.tsx';
import { ExecutionPage } from './execution-page.tsx';
import { UsagePage } from './usage-page.tsx';

const SECTIONS: Array<{ route: Route; label: string; covers: Array<Route['page']> }> = [
  { route: { page: 'functions' }, label: 'Functions', covers: ['functions', 'function'] },
  { route: { page: 'queues' }, label: 'Queues', covers: ['queues'] },
  { route: { page: 'workflows' }, label: 'Workflows', covers: ['workflows', 'state-machine', 'execution'] },
  { route: { page: 'usage' }, label: 'Usage', covers: ['usage'] },
];

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'functions':
      return <FunctionsPage />;
    case 'function':
      return <FunctionPage name={route.name} />;
    case 'queues':
      return <QueuesPage />;
    case 'workflows':
      return <WorkflowsPage />;
    case 'state-machine':
      return <StateMachinePage name={route.name} />;
    case 'execution':
      return <ExecutionPage arn={route.arn} />;
    case 'usage':
      return <UsagePage />;
  }
}

export function App() {
  const [loggedIn, setLoggedIn] = useState(() => storedToken() !== undefined);
  const route = useRoute();
  useEffect(
    () =>
      whenUnauthorized(() => {
        storeToken(undefined);
        setLoggedIn(false);
      }),
    [],
  );
  if (!loggedIn) return <Login onLogin={() => setLoggedIn(true)} />;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header>
        <span class="brand">Outpost</span>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map((s) => (
              <li key={s.label}>
                <a href={href(s.route)} aria-current={s.covers.includes(route.page) ? 'page' : undefined}>
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button
          type="button"
          class="link"
          onClick={() => {
            storeToken(undefined);
            setLoggedIn(false);
          }}
        >
          Log out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}
