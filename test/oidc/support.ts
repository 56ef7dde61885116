/**
 * What the tests of the OpenID provider share: an app origin (no server needs to answer there —
 * the Node client stops at the redirect), and a provider started per test with its cleanup.
 */
import { afterEach } from 'vitest';
import {
  signInWithCodeFlow,
  startOidcProvider,
  type CodeFlowOptions,
  type CodeFlowResult,
  type OidcProviderOptions,
  type RunningOidcProvider,
} from '../../dev/oidc/index.ts';

export const APP = 'http://127.0.0.1:5999';
export const REDIRECT = `${APP}/callback`;
export const LOGGED_OUT = `${APP}/logged-out`;

const running: RunningOidcProvider[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((op) => op.stop()));
});

/** A provider for this test (stopped after it), for the app at {@link APP}. */
export async function provider(options: Partial<OidcProviderOptions> = {}): Promise<RunningOidcProvider> {
  const op = await startOidcProvider({ appOrigins: [APP], redirectUris: [REDIRECT], postLogoutRedirectUris: [LOGGED_OUT], ...options });
  running.push(op);
  return op;
}

/** A sign-in of a new account through the real authorization endpoint; returns the flow and its grant id. */
export async function signIn(op: RunningOidcProvider, o: Partial<CodeFlowOptions> = {}): Promise<CodeFlowResult & { grantId: string }> {
  const flow = await signInWithCodeFlow({ issuer: op.issuer, clientId: op.clientId, redirectUri: REDIRECT, ...o });
  const grantId = op.events.grantOf(flow.tokens.access_token);
  if (!grantId) throw new Error('the provider logged no grant for this sign-in');
  return { ...flow, grantId };
}
