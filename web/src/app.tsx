import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, whenSessionEnds } from './api.js';
import { KeysPage } from './keys-page.js';
import { LoginPage } from './login-page.js';
import { Notice } from './notice.js';
import { OverviewPage } from './overview-page.js';
import { ProvidersPage } from './providers-page.js';
import { RequestsPage } from './requests-page.js';
import { UsagePage } from './usage-page.js';

/** The pages, by the hash that opens them (`#/keys`): a reload or a shared link lands there. */
const PAGES = [
  { path: 'overview', label: 'Overview', Page: OverviewPage },
  { path: 'keys', label: 'Keys & teams', Page: KeysPage },
  { path: 'usage', label: 'Usage', Page: UsagePage },
  { path: 'requests', label: 'Request log', Page: RequestsPage },
  { path: 'providers', label: 'Providers', Page: ProvidersPage },
] as const;

type Session = 'checking' | 'out' | 'in' | 'ended';

function currentPath(): string {
  const path = window.location.hash.replace(/^#\/?/, '');
  return PAGES.some((page) => page.path === path) ? path : 'overview';
}

/** The console: the login page until a session exists, then the navigation and one page. */
export function App() {
  const [session, setSession] = useState<Session>('checking');
  const [path, setPath] = useState(currentPath);
  const [problem, setProblem] = useState<string | undefined>();

  useEffect(() => {
    whenSessionEnds(() => setSession('ended'));
    api.session().then(
      () => setSession('in'),
      (error: unknown) => {
        if (!(error instanceof ApiError) || error.status !== 401) {
          setProblem(error instanceof Error ? error.message : String(error));
        }
        setSession('out');
      },
    );
    const follow = () => setPath(currentPath());
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);

  const page = PAGES.find((candidate) => candidate.path === path) ?? PAGES[0];
  useEffect(() => {
    document.title = `${page.label} · ai-gateway console`;
  }, [page]);

  if (session === 'checking') {
    return (
      <main class="login">
        <Notice kind="loading" title="Opening the console…" />
      </main>
    );
  }
  if (session !== 'in') {
    return (
      <LoginPage
        message={session === 'ended' ? 'Your session ended. Log in again to go on.' : problem}
        onLoggedIn={() => {
          setProblem(undefined);
          setSession('in');
        }}
      />
    );
  }
  const logout = async () => {
    try {
      await api.logout();
    } finally {
      setSession('out');
    }
  };
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">ai-gateway</span>
        <nav aria-label="Console pages">
          <ul class="nav">
            {PAGES.map((candidate) => (
              <li key={candidate.path}>
                <a
                  href={`#/${candidate.path}`}
                  aria-current={candidate.path === page.path ? 'page' : undefined}
                >
                  {candidate.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" class="button button-quiet" onClick={logout}>
          Log out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <page.Page />
      </main>
    </div>
  );
}
