/**
 * The demo's one token manager, for the origin the address chose. The demo page and the redirect
 * page (`/oidc/callback`) both make theirs here, so they pass the worker the same options — a
 * page that passed others would have `ready` rejected by the worker the first one started.
 *
 * The two managers never meet: a Clerk manager's worker, channel and database are keyed by its
 * origin, an OpenID Connect manager's by issuer and client id, so no namespace is needed.
 */
import { createTokenManager, type TokenManager } from 'tabtoken';
import { loadOidcSettings, type DemoOidcSettings } from './oidcConfig.ts';
import type { OriginKind } from './originChoice.ts';

/** The demo tabs refresh and report once a second, so a person watching sees each step. */
const POLL_INTERVAL_MS = 1000;

export interface DemoManager {
  tokens: TokenManager;
  /** The provider's settings in OpenID Connect mode; null for the Clerk-shaped origin. */
  oidc: DemoOidcSettings | null;
}

/**
 * Creates the manager; in OpenID Connect mode it first fetches the provider's settings from the
 * demo's server (and rejects when they cannot be had).
 *
 * @example
 * const { tokens, oidc } = await createDemoManager(chosenOrigin(location.search));
 */
export async function createDemoManager(kind: OriginKind): Promise<DemoManager> {
  if (kind === 'clerk') return { tokens: createTokenManager({ pollIntervalMs: POLL_INTERVAL_MS }), oidc: null };
  const oidc = await loadOidcSettings();
  const tokens = createTokenManager({
    pollIntervalMs: POLL_INTERVAL_MS,
    oidc: { issuer: oidc.issuer, clientId: oidc.clientId, redirectUri: oidc.redirectUri, postLogoutRedirectUri: oidc.postLogoutRedirectUri },
    // tokens.fetch sends the token only to the page's origin and these.
    fetchOrigins: oidc.resourceUrl ? [new URL(oidc.resourceUrl).origin] : [],
  });
  return { tokens, oidc };
}
