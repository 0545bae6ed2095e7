/** The sign-in page: email and password, one message for every failure. */
import type { Assets } from '../assets.js';
import { Document, Notice } from '../views/layout.js';

export interface SignInView {
  assets: Assets;
  /** Where to go after signing in (a dashboard path). */
  next: string;
  email?: string;
  error?: string;
  /** Set when cookies cannot work here (plain HTTP on a public host). */
  insecure?: boolean;
  signedOut?: boolean;
  /** No account exists yet: say how to make the first. */
  noUsers?: boolean;
}

export function SignInPage(view: SignInView) {
  return (
    <Document title="Sign in" assets={view.assets}>
      <main id="main" class="signin">
        <h1>Sign in to Pruuv</h1>
        {view.signedOut === true && <Notice kind="ok">You are signed out.</Notice>}
        {view.insecure === true && (
          <Notice kind="bad">
            The dashboard needs HTTPS: its session cookie is <code>Secure</code>, so a browser will not send it back over plain HTTP.
            Serve the collector behind TLS (or open it on localhost).
          </Notice>
        )}
        {view.noUsers === true && (
          <Notice kind="warn">
            No account exists yet. Create the first admin on the server: <code>npx pruuv users add --email you@agency.example --role admin</code>
          </Notice>
        )}
        {view.error !== undefined && <Notice kind="bad">{view.error}</Notice>}
        <form method="post" action="/dashboard/sign-in" class="stack">
          <input type="hidden" name="next" value={view.next} />
          <label>
            Email
            <input type="email" name="email" autocomplete="username" required value={view.email ?? ''} autofocus />
          </label>
          <label>
            Password
            <input type="password" name="password" autocomplete="current-password" required />
          </label>
          <button type="submit">Sign in</button>
        </form>
        <p class="hint">Forgot your password? An admin resets it with <code>pruuv users reset-password --email you@…</code>.</p>
      </main>
    </Document>
  );
}
