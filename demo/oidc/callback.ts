/**
 * The demo's redirect page (`/oidc/callback`, registered with the provider): the same manager as
 * the demo page in OpenID Connect mode, `handleRedirect()` to complete the sign-in for every tab,
 * then on to where the sign-in started. A failure stays on this page, said in words, with a way
 * back; `handleRedirect` has already taken the answer's parameters out of the address, so a reload
 * does not present a used `state` again.
 */
import { TokenError } from 'tabtoken';
import { createDemoManager } from '../demoManager.ts';

const byId = (id: string) => document.getElementById(id) as HTMLElement;

function fail(error: unknown): void {
  const what =
    error instanceof TokenError
      ? `${error.name} (${error.code}): ${error.message}`
      : error instanceof Error
        ? `${error.name}: ${error.message}`
        : String(error);
  byId('callback-status').textContent = 'The sign-in did not complete.';
  byId('callback-error').textContent = what;
  byId('callback-error').hidden = false;
  byId('callback-back').hidden = false;
}

try {
  const { tokens } = await createDemoManager('oidc');
  Object.assign(globalThis, { tokens });
  const { returnTo } = await tokens.handleRedirect();
  // The engine keeps only paths of this app; checked again before navigating anyway.
  if (!/^\/(?![/\\])/.test(returnTo)) throw new Error(`handleRedirect gave a returnTo that is not a path of this app: ${returnTo.slice(0, 100)}`);
  byId('callback-status').textContent = 'Signed in; back to the demo…';
  location.replace(returnTo);
} catch (error) {
  fail(error);
}
