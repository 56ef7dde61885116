/**
 * The demo's sign-in page for the app's own token endpoints (`/sign-in.html?origin=endpoint` or
 * `?origin=better-auth`): the app's own form, as an app without an auth vendor has one. It posts
 * the sign-in to the server — which sets the cookie, HttpOnly, that the token endpoint reads — then
 * calls `tokens.sync()`, so every open tab of the app is signed in at once rather than at its next
 * look, and goes back to the demo. The page makes the same manager as the demo page, so it joins
 * the same worker.
 */
import { TokenError } from 'tabtoken';
import { createDemoManager } from './demoManager.ts';
import { chosenOrigin, isEndpointKind, originHref, type EndpointKind } from './originChoice.ts';

const byId = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const asked = chosenOrigin(location.search);
// A sign-in page only for the origins that have no sign-in page of their own.
const kind: EndpointKind = isEndpointKind(asked) ? asked : 'endpoint';
const home = originHref(kind, new URL('/', location.href));
byId<HTMLAnchorElement>('sign-in-back').href = home;
byId('sign-in-title').textContent = kind === 'endpoint' ? "Sign in — the app's own form" : 'Sign in — better-auth';
byId('sign-in-note').textContent =
  kind === 'endpoint'
    ? 'POST /app/session/login sets the refresh cookie (HttpOnly, SameSite=Lax, Path=/app/session); tokens.sync() then signs every tab in.'
    : "better-auth's own routes (POST /api/auth/sign-in/email or sign-up/email) set its session cookie; tokens.sync() then signs every tab in.";
byId<HTMLFormElement>('better-auth-form').querySelector<HTMLInputElement>('input[name=email]')!.value =
  `demo-${Math.random().toString(36).slice(2, 8)}@example.test`;

function fail(error: unknown): void {
  byId('sign-in-error').textContent =
    error instanceof TokenError ? `${error.name} (${error.code}): ${error.message}` : error instanceof Error ? error.message : String(error);
  byId('sign-in-error').hidden = false;
}

/** A form post to the app's server; the answer's text is the error shown when it refuses. */
async function post(path: string, body: URLSearchParams | object): Promise<void> {
  const form = body instanceof URLSearchParams;
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' },
    body: form ? body : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
}

const { tokens } = await createDemoManager(kind);
Object.assign(globalThis, { tokens });
const form = byId<HTMLFormElement>(kind === 'endpoint' ? 'app-form' : 'better-auth-form');
form.hidden = false;
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  byId('sign-in-error').hidden = true;
  const fields = new FormData(form);
  const action = (event.submitter as HTMLButtonElement | null)?.value ?? 'sign-in';
  try {
    if (kind === 'endpoint') await post('/app/session/login', new URLSearchParams({ user_id: String(fields.get('user_id') ?? '') }));
    else {
      const credentials = { email: String(fields.get('email') ?? ''), password: String(fields.get('password') ?? '') };
      await post(
        action === 'sign-up' ? '/api/auth/sign-up/email' : '/api/auth/sign-in/email',
        action === 'sign-up' ? { ...credentials, name: String(fields.get('name') || 'Demo') } : credentials,
      );
    }
    // The cookie is set: the worker asks the token endpoint now, and every tab shows the answer.
    await tokens.sync();
    if (tokens.getSnapshot().status !== 'ok')
      throw new Error(`signed in at the server, but the token endpoint did not give a token (status ${tokens.getSnapshot().status})`);
    location.replace(home);
  } catch (error) {
    fail(error);
  }
});
