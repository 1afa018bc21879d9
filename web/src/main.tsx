import { type ComponentType, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Me } from './api';
import { BuildPage, BuildsPage } from './pages/builds';
import { ImagePage } from './pages/image';
import { PipelinePage } from './pages/pipeline';
import { RepositoryEditPage } from './pages/repositories/edit';
import { RepositoriesPage } from './pages/repositories/list';
import { RepositoryPage } from './pages/repositories/repository';
import { SearchPage } from './pages/search';
import { SignInPage } from './pages/sign-in';
import { StoragePage } from './pages/storage';
import { WebhooksPage } from './pages/webhooks';
import { Link, navigate, useLocation } from './router';
import { loadMe, SessionContext, signOut } from './session';
import './styles.css';
import { ErrorBox, Loading, PageTitle } from './ui';

const ANONYMOUS: Me = { name: 'anonymous', authenticated: false, admin: false, groups: [] };

/** Administration is loaded on demand: most visitors never open it. */
function AdminLoader({ section }: { section: string }) {
  const [Page, setPage] = useState<ComponentType<{ section: string }> | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    import('./pages/admin').then((m) => setPage(() => m.AdminPage), setError);
  }, []);
  if (error) return <ErrorBox error={error} />;
  return Page ? (
    <Page section={section} />
  ) : (
    <>
      <PageTitle title="Administration">Administration</PageTitle>
      <Loading />
    </>
  );
}

function Routes({ path }: { path: string }) {
  const at = (re: RegExp) =>
    path
      .match(re)
      ?.slice(1)
      .map((p) => decodeURIComponent(p ?? ''));
  if (path === '/' || path === '' || path === '/pipeline') return <PipelinePage />;
  if (path === '/sign-in') return <SignInPage />;
  if (path === '/repositories') return <RepositoriesPage />;
  if (path === '/repositories/new') return <RepositoryEditPage />;
  const edit = at(/^\/repositories\/([^/]+)\/edit$/);
  if (edit) return <RepositoryEditPage repoKey={edit[0]} />;
  const image = at(/^\/repositories\/([^/]+)\/images\/(.+?)\/?$/);
  if (image) return <ImagePage repository={image[0]!} image={image[1]!} />;
  const repo = at(/^\/repositories\/([^/]+)\/?$/);
  if (repo) return <RepositoryPage repoKey={repo[0]!} />;
  if (path === '/search') return <SearchPage />;
  if (path === '/storage') return <StoragePage />;
  if (path === '/webhooks') return <WebhooksPage />;
  if (path === '/builds') return <BuildsPage />;
  const build = at(/^\/builds\/([^/]+)\/([^/]+)\/?$/);
  if (build) return <BuildPage name={build[0]!} number={build[1]!} />;
  const admin = at(/^\/admin(?:\/([a-z-]+))?\/?$/);
  if (admin) return <AdminLoader section={admin[0] || 'users'} />;
  return (
    <>
      <PageTitle title="Not found">Page not found</PageTitle>
      <p>
        There is no page at <code>/ui{path}</code>. <Link href="/">Go to the pipeline</Link>.
      </p>
    </>
  );
}

const NAV = [
  { href: '/pipeline', label: 'Pipeline', match: (p: string) => p === '/' || p.startsWith('/pipeline') },
  { href: '/repositories', label: 'Repositories', match: (p: string) => p.startsWith('/repositories') },
  { href: '/search', label: 'Search', match: (p: string) => p.startsWith('/search') },
  { href: '/storage', label: 'Storage', match: (p: string) => p.startsWith('/storage') },
  { href: '/webhooks', label: 'Webhooks', match: (p: string) => p.startsWith('/webhooks') },
  { href: '/builds', label: 'Builds', match: (p: string) => p.startsWith('/builds') },
  { href: '/admin', label: 'Administration', match: (p: string) => p.startsWith('/admin') },
];

function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [meError, setMeError] = useState<Error | null>(null);
  const loc = useLocation();
  useEffect(() => {
    loadMe().then(setMe, (e) => {
      setMeError(e);
      setMe(ANONYMOUS);
    });
    const recheck = () => loadMe().then(setMe, () => {});
    addEventListener('gantry:unauthorized', recheck);
    return () => removeEventListener('gantry:unauthorized', recheck);
  }, []);
  // After client-side navigation, focus the new page's heading (screen readers announce it).
  const [first, setFirst] = useState(true);
  useEffect(() => {
    if (first) {
      setFirst(false);
      return;
    }
    window.scrollTo(0, 0);
    requestAnimationFrame(() => document.getElementById('page-title')?.focus({ preventScroll: true }));
  }, [loc.path]);

  if (!me) return <Loading what="Starting" />;
  const out = async () => {
    await signOut().catch(() => {});
    setMe(await loadMe().catch(() => ANONYMOUS));
    navigate('/sign-in');
  };
  return (
    <SessionContext.Provider value={{ me, setMe }}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/" class="brand" aria-label="Gantry home">
          Gantry
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.href}>
                <Link href={n.href} aria-current={n.match(loc.path) ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who" data-testid="session">
          {me.authenticated ? (
            <>
              <span>
                Signed in as <strong data-testid="user-name">{me.name}</strong>
                {me.admin ? ' (administrator)' : ''}
              </span>
              <button type="button" class="secondary small" onClick={out}>
                Sign out
              </button>
            </>
          ) : (
            loc.path !== '/sign-in' && (
              <Link href={`/sign-in?next=${encodeURIComponent(loc.href)}`} class="button small">
                Sign in
              </Link>
            )
          )}
        </div>
      </header>
      <main id="main">
        {meError && <ErrorBox error={meError} title="Who you are could not be read" />}
        <Routes path={loc.path} />
      </main>
    </SessionContext.Provider>
  );
}

render(<App />, document.getElementById('app')!);
