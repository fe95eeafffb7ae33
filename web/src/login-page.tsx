import { useState } from 'preact/hooks';
import { api } from './api.js';

/**
 * Login with the admin key. The key goes to the gateway once, which answers with an HttpOnly
 * session cookie; the page never stores the key, and the field is cleared after use.
 */
export function LoginPage({
  message,
  onLoggedIn,
}: {
  message: string | undefined;
  onLoggedIn: () => void;
}) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.login(key.trim());
      setKey('');
      onLoggedIn();
    } catch (failure) {
      setError(
        failure instanceof Error && 'status' in failure && failure.status === 401
          ? 'That is not the admin key. It is the ADMIN_API_KEY the gateway was started with.'
          : failure instanceof Error
            ? failure.message
            : String(failure),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="card login-card" onSubmit={submit}>
        <h1>ai-gateway console</h1>
        <p class="muted">Log in with the gateway's admin key (ADMIN_API_KEY).</p>
        {message === undefined ? null : (
          <p class="notice notice-info" role="status">
            {message}
          </p>
        )}
        <label for="admin-key">Admin key</label>
        <input
          id="admin-key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
          required
        />
        {error === undefined ? null : (
          <p class="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="button button-primary" disabled={busy || key.trim() === ''}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
