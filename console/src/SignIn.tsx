import { type FormEvent, useState } from 'react';
import { MeDocument } from './generated/graphql';
import type { Api } from './api/client';
import { problemsOf } from './api/errors';
import { ErrorNotice } from './common/ErrorNotice';

/**
 * Sign in with an API token (the first start of the server prints the super-admin's). The
 * token is checked with `me` before it is kept, so a typo is an error here, not a broken page.
 */
export function SignIn({ connect, onSignedIn, ended }: { connect: (token: string) => Api; onSignedIn: (api: Api, token: string) => void; ended: boolean }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const candidate = token.trim();
    if (!candidate) return;
    setBusy(true);
    setError(null);
    const api = connect(candidate);
    try {
      await api.apollo.query({ query: MeDocument, fetchPolicy: 'network-only' });
      onSignedIn(api, candidate);
    } catch (e) {
      api.dispose();
      setError(e);
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <h1>CMS webhooks console</h1>
      <form onSubmit={submit} className="card" noValidate>
        {ended && (
          <p className="notice" role="status">
            Your session ended: the server no longer accepts that token (revoked, or its user removed). Sign in again.
          </p>
        )}
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-describedby="token-help"
          autoFocus
        />
        <p id="token-help" className="help">
          The token printed by the server&rsquo;s first start (<code>cms_…</code>), or one from <code>createApiToken</code>. It is kept in this tab
          only, and forgotten when the tab closes.
        </p>
        {problemsOf(error).some((p) => p.code === 'UNAUTHENTICATED') ? (
          <p className="field-error" role="alert">
            That token is unknown or revoked.
          </p>
        ) : (
          <ErrorNotice error={error} />
        )}
        <button type="submit" disabled={busy || !token.trim()}>
          Sign in
        </button>
      </form>
    </main>
  );
}
