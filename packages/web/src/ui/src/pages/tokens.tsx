import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { api, apiPath } from '../api';
import { CopyLine, ErrorNote, Loading, Scroll, Time, useTitle } from '../components';
import { useSession } from '../session';
import type { Token } from '../types';
import { useApi } from '../use-api';

function CreateToken({ onCreated }: { onCreated: (token: string) => void }) {
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    const text = (key: string) => {
      const value = String(form.get(key) ?? '').trim();
      return value === '' ? undefined : value;
    };
    setBusy(true);
    setError(undefined);
    try {
      const created = await api<{ token: string }>('tokens', {
        method: 'POST',
        body: { name: text('name'), scope: text('scope'), pattern: text('pattern'), expires: text('expires') },
      });
      // Name and pattern are per token; scope and lifetime stay as chosen.
      for (const field of ['name', 'pattern']) (formElement.elements.namedItem(field) as HTMLInputElement).value = '';
      onCreated(created.token);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="token-form" onSubmit={submit} aria-labelledby="create-heading">
      <h2 id="create-heading">Create a token</h2>
      <div class="field">
        <label for="token-name">Name</label>
        <input id="token-name" name="name" maxLength={255} placeholder="ci-uploads" />
      </div>
      <div class="field">
        <label for="token-scope">Scope</label>
        <select id="token-scope" name="scope">
          <option value="read">read</option>
          <option value="write">write (upload)</option>
          <option value="delete">delete</option>
        </select>
      </div>
      <div class="field">
        <label for="token-pattern">Only references matching</label>
        <input id="token-pattern" name="pattern" maxLength={512} placeholder="zlib/* (optional)" />
      </div>
      <div class="field">
        <label for="token-expires">Expires</label>
        <select id="token-expires" name="expires">
          <option value="30d">in 30 days</option>
          <option value="90d" selected>
            in 90 days
          </option>
          <option value="365d">in a year</option>
          <option value="never">never</option>
        </select>
      </div>
      <button type="submit" class="primary" disabled={busy}>
        Create token
      </button>
      {error && <ErrorNote error={error} />}
    </form>
  );
}

function RevokeButton({ token, onRevoked }: { token: Token; onRevoked: () => void }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const revoke = async () => {
    try {
      await api(`tokens/${apiPath(token.id)}`, { method: 'DELETE' });
      onRevoked();
    } catch (e) {
      setError(e as Error);
    }
  };
  if (!asking) {
    return (
      <button type="button" onClick={() => setAsking(true)} aria-label={`Revoke token ${token.name}`}>
        Revoke
      </button>
    );
  }
  return (
    <span class="confirm">
      <button type="button" class="danger" onClick={revoke} aria-label={`Confirm: revoke token ${token.name}`}>
        Yes, revoke
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
      {error && <ErrorNote error={error} />}
    </span>
  );
}

/** The logged-in user's API tokens: a new one's secret is shown once, here, and never again. */
export function TokensPage() {
  useTitle('API tokens');
  const { me } = useSession();
  const [version, setVersion] = useState(0);
  const [secret, setSecret] = useState<string | undefined>();
  const list = useApi<{ tokens: Token[] }>(me?.authenticated ? 'tokens' : undefined, version);
  if (!me) return <Loading />;
  if (!me.authenticated) {
    return (
      <>
        <h1>API tokens</h1>
        <p>
          <Link href="/login">Log in</Link> to see and create your API tokens.
        </p>
      </>
    );
  }
  return (
    <>
      <h1>API tokens</h1>
      <p class="muted">
        Use a token as the password of <code>conan remote login</code> (any user name), or as a Bearer token.
      </p>
      {secret && (
        <div class="secret" role="status">
          <p>
            <strong>Copy the token now:</strong> it is not shown again.
          </p>
          <CopyLine label="Your new token" text={secret} />
          <button type="button" onClick={() => setSecret(undefined)}>
            Done
          </button>
        </div>
      )}
      <CreateToken
        onCreated={(token) => {
          setSecret(token);
          setVersion((v) => v + 1);
        }}
      />
      <section aria-labelledby="tokens-heading">
        <h2 id="tokens-heading">Your tokens</h2>
        {list.error && <ErrorNote error={list.error} />}
        {list.loading && !list.data && <Loading />}
        {list.data && list.data.tokens.length === 0 && <p class="muted">No token yet.</p>}
        {list.data && list.data.tokens.length > 0 && (
          <Scroll label="Your tokens">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Scope</th>
                  <th scope="col">References</th>
                  <th scope="col">Created</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.tokens.map((t) => (
                  <tr key={t.id}>
                    <td>{t.name}</td>
                    <td>{t.scope}</td>
                    <td>{t.pattern ?? 'all'}</td>
                    <td>
                      <Time iso={t.created} />
                    </td>
                    <td>{t.expires ? <Time iso={t.expires} /> : 'never'}</td>
                    <td>{t.last_used ? <Time iso={t.last_used} /> : 'never'}</td>
                    <td>
                      <RevokeButton token={t} onRevoked={() => setVersion((v) => v + 1)} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        )}
      </section>
    </>
  );
}
