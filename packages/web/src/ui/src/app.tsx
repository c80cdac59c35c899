import { Link, Route, Router, Switch, useLocation } from 'wouter-preact';
import { api } from './api';
import { UI_BASE } from './locations';
import { LoginPage } from './pages/login';
import { RecipePage } from './pages/recipe';
import { RevisionPage } from './pages/revision';
import { SearchPage } from './pages/search';
import { TokensPage } from './pages/tokens';
import { SessionProvider, useSession } from './session';

function Header() {
  const { me, refresh } = useSession();
  const [, navigate] = useLocation();
  const logout = async () => {
    try {
      await api('session', { method: 'DELETE' });
    } finally {
      await refresh();
      navigate('/');
    }
  };
  return (
    <header class="top">
      <nav aria-label="Main">
        <Link href="/" class="brand">
          Cimmeria
        </Link>
        <Link href="/">Search</Link>
        {me?.authenticated && <Link href="/tokens">Tokens</Link>}
        <span class="spacer" />
        {me?.authenticated ? (
          <>
            <span class="who" data-testid="user">
              {me.user}
            </span>
            <button type="button" class="link" onClick={logout}>
              Log out
            </button>
          </>
        ) : (
          me && <Link href="/login">Log in</Link>
        )}
      </nav>
    </header>
  );
}

function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        <Link href="/">Search packages</Link>
      </p>
    </>
  );
}

/** The UI: its routes live under `{mount}/ui`, wherever the host mounted it. */
export function App() {
  return (
    <Router base={UI_BASE}>
      <SessionProvider>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <Header />
        <main id="main" tabIndex={-1}>
          <Switch>
            <Route path="/" component={SearchPage} />
            <Route path="/login" component={LoginPage} />
            <Route path="/tokens" component={TokensPage} />
            <Route path="/recipes/:name" component={RecipePage} />
            <Route path="/recipes/:name/:version/:user/:channel" component={RevisionPage} />
            <Route path="/recipes/:name/:version/:user/:channel/:revision" component={RevisionPage} />
            <Route component={NotFound} />
          </Switch>
        </main>
      </SessionProvider>
    </Router>
  );
}
