import { useEffect, useRef } from 'react';
import { AnnounceProvider } from './announce.tsx';
import { LineagePage } from './pages/lineage-page.tsx';
import { OverviewPage } from './pages/overview-page.tsx';
import { PipelinesPage, PipelineVersionsPage } from './pages/pipelines-page.tsx';
import { QueuesPage } from './pages/queues-page.tsx';
import { RunPage } from './pages/run-page.tsx';
import { RunsPage } from './pages/runs-page.tsx';
import { SubmitPage } from './pages/submit-page.tsx';
import { Link, match, useLocation } from './router.tsx';

const NAV = [
  { to: '/', label: 'Overview', active: (p: string) => p === '/' },
  { to: '/runs', label: 'Runs', active: (p: string) => p.startsWith('/runs') },
  { to: '/pipelines', label: 'Pipelines', active: (p: string) => p.startsWith('/pipelines') },
  { to: '/queues', label: 'Workers and queues', active: (p: string) => p.startsWith('/queues') },
  { to: '/lineage', label: 'Lineage', active: (p: string) => p.startsWith('/lineage') },
];

function Page({ path, search }: { path: string; search: URLSearchParams }) {
  let params: Record<string, string> | null;
  if (path === '/') return <OverviewPage />;
  if (path === '/runs') return <RunsPage search={search} />;
  if ((params = match('/runs/:id', path))) return <RunPage key={params['id']} runId={params['id'] ?? ''} stage={search.get('stage')} />;
  if (path === '/pipelines') return <PipelinesPage />;
  if (path === '/pipelines/new') return <SubmitPage search={search} />;
  if ((params = match('/pipelines/:name', path))) return <PipelineVersionsPage name={params['name'] ?? ''} />;
  if (path === '/queues') return <QueuesPage />;
  if (path === '/lineage') return <LineagePage artifactId={null} />;
  if ((params = match('/lineage/:id', path))) return <LineagePage artifactId={params['id'] ?? null} />;
  return (
    <div>
      <h1>Not found</h1>
      <p>
        No page at <code>{path}</code>. <Link to="/">Go to the overview</Link>.
      </p>
    </div>
  );
}

const TITLES: [RegExp, string][] = [
  [/^\/$/, 'Overview'],
  [/^\/runs$/, 'Runs'],
  [/^\/runs\//, 'Run'],
  [/^\/pipelines\/new$/, 'Submit a run'],
  [/^\/pipelines/, 'Pipelines'],
  [/^\/queues/, 'Workers and queues'],
  [/^\/lineage/, 'Lineage'],
];

export function App() {
  const { path, search } = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // A new page: title it, and move the focus to its content (not on the first load).
  useEffect(() => {
    document.title = `${TITLES.find(([re]) => re.test(path))?.[1] ?? 'Pipewright'} · Pipewright`;
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [path]);

  return (
    <AnnounceProvider>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand" aria-label="Pipewright overview">
          Pipewright
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.to}>
                <Link to={item.to} aria-current={item.active(path) ? 'page' : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <a className="api-docs" href="/docs">
          API docs
        </a>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Page path={path} search={search} />
      </main>
    </AnnounceProvider>
  );
}
