/**
 * @module
 * The login page: one token field. The token is checked against the node (listing functions
 * needs it) before it is stored, so a wrong token says so here instead of failing later.
 */
import { useState } from 'preact/hooks';
import { api, ApiError, storeToken } from './api.ts';

export function Login({ onLogin }: { onLogin: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api('/functions', { token: token.trim() });
      storeToken(token.trim());
      onLogin();
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? 'That token was not accepted. Use a token from `outpost tokens create` or the one printed when the node first started.' : `Could not reach the node: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="login">
      <h1>Outpost</h1>
      <form onSubmit={(e) => void submit(e)} aria-describedby={error ? 'login-error' : undefined}>
        <label for="token">Access token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required value={token} onInput={(e) => setToken(e.currentTarget.value)} aria-invalid={error ? 'true' : undefined} />
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Log in'}
        </button>
        {error && (
          <p id="login-error" class="failure" role="alert">
            {error}
          </p>
        )}
      </form>
      <p class="hint">The token stays in this browser tab only (session storage).</p>
    </main>
  );
}
