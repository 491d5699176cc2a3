/** @jsxImportSource hono/jsx */
import { Layout } from "../layout.tsx";

/** The sign-in form: one API key field (a password input), posted with the double-submit token. */
export function SignInPage(props: { token: string; error?: string }) {
  return (
    <Layout title="Sign in">
      <p>Sign in with a tenant API key. The key is exchanged for a session of 30 minutes that can do exactly what the key's role can; an auditor's console is read-only.</p>
      {props.error ? <p class="error" role="alert" id="signin-error">{props.error}</p> : null}
      <form method="post" action="/console/sign-in" class="card narrow">
        <input type="hidden" name="csrf" value={props.token} />
        <label for="api_key">API key</label>
        <input id="api_key" name="api_key" type="password" autocomplete="off" required
          aria-describedby={props.error ? "signin-error" : undefined} />
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}
