/**
 * The redirect page of the OpenID Connect tests, as an app writes one: the same manager options as
 * every tab (the test puts them in `__tabtokenOidc` before any script runs), `handleRedirect()`,
 * then on to where the sign-in started. What happened is kept on `window.callback` for the test.
 */
import { createTokenManager, type TokenManagerOptions } from '../../../client/index.ts';

const options = (globalThis as unknown as { __tabtokenOidc: TokenManagerOptions }).__tabtokenOidc;
const tokens = createTokenManager(options);
const callback: { returnTo?: string; error?: { name: string; code: string; message: string }; url: string } = { url: location.href };
Object.assign(globalThis, { callback, tokens });

tokens.handleRedirect().then(
  ({ returnTo }) => {
    callback.returnTo = returnTo;
    location.replace(returnTo);
  },
  (error: { name: string; code: string; message: string }) => {
    callback.error = { name: error.name, code: error.code, message: error.message };
    document.getElementById('status')!.textContent = `${error.name}: ${error.message}`;
  },
);
