import { useState } from 'preact/hooks';
import { TextField } from '../parts';
import { navigate, useLocation } from '../router';
import { loadMe, signIn, useSession } from '../session';
import { ErrorBox, PageTitle, useAction } from '../ui';

function target(next: string | null): string {
  // Only paths of this UI: never an open redirect.
  return next?.startsWith('/ui/') && !next.startsWith('/ui/sign-in') ? next : '/ui/pipeline';
}

export function SignInPage() {
  const { me, setMe } = useSession();
  const loc = useLocation();
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction(async (form: HTMLFormElement) => {
    // Read the fields themselves: autofill and password managers do not always fire input events.
    const data = new FormData(form);
    const signed = await signIn(
      String(data.get('username') ?? user).trim(),
      String(data.get('password') ?? password),
    );
    const full = await loadMe().catch(() => signed);
    setMe(full.authenticated ? full : signed);
    navigate(target(loc.query.get('next')));
  });
  return (
    <section class="narrow">
      <PageTitle title="Sign in">Sign in</PageTitle>
      {me.authenticated && (
        <p>
          You are signed in as <strong>{me.name}</strong>. Signing in again switches user.
        </p>
      )}
      <form
        class="card stack"
        aria-labelledby="page-title"
        onSubmit={(e) => {
          e.preventDefault();
          action.go(e.currentTarget);
        }}
      >
        <TextField
          id="sign-in-user"
          label="User"
          value={user}
          onValue={setUser}
          name="username"
          autoComplete="username"
          required
        />
        <TextField
          id="sign-in-password"
          label="Password"
          value={password}
          onValue={setPassword}
          name="password"
          type="password"
          autoComplete="current-password"
          required
        />
        {action.error && <ErrorBox error={action.error} />}
        <div class="actions">
          <button type="submit" disabled={action.busy}>
            {action.busy ? 'Signing in…' : 'Sign in'}
          </button>
          <button type="button" class="link" onClick={() => navigate(target(loc.query.get('next')))}>
            Continue without signing in
          </button>
        </div>
      </form>
      <p class="muted">
        Anonymous visitors see what the permission targets grant to anonymous access. Command-line clients
        sign in with <code>docker login {location.host}</code>.
      </p>
    </section>
  );
}
