import { useState } from 'preact/hooks';
import { useLocation } from 'wouter-preact';
import { api, ApiError } from '../api';
import { useTitle } from '../components';
import { useSession } from '../session';

/** Logs in with the same users as the Conan API (LDAP too when configured); the session is an HttpOnly cookie. */
export function LoginPage() {
  useTitle('Log in');
  const { refresh } = useSession();
  const [, navigate] = useLocation();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(undefined);
    try {
      await api('session', { method: 'POST', body: { username: form.get('username'), password: form.get('password') } });
      await refresh();
      navigate('/tokens');
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? 'Wrong user name or password.' : (e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <h1>Log in</h1>
      <form class="stack narrow" onSubmit={submit}>
        <label for="username">User name</label>
        <input id="username" name="username" autoComplete="username" required autoFocus />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Log in
        </button>
      </form>
    </>
  );
}
