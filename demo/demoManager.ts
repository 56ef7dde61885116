/**
 * The demo's one token manager, for the origin the address chose. The demo page, the redirect
 * page (`/oidc/callback`) and the sign-in page (`/sign-in.html`) all make theirs here, so they pass
 * the worker the same options — a page that passed others would have `ready` rejected by the
 * worker the first one started.
 *
 * The managers never meet: a Clerk manager's worker, channel and database are keyed by its
 * origin, an OpenID Connect manager's by issuer and client id, an endpoint manager's by its
 * `tokenUrl`, so no namespace is needed.
 */
import { createTokenManager, type TokenManager, type TokenManagerOptions } from 'tabtoken';
import { loadOidcSettings, type DemoOidcSettings } from './oidcConfig.ts';
import { isEndpointKind, type EndpointKind, type OriginKind } from './originChoice.ts';

/** The demo tabs refresh and report once a second, so a person watching sees each step. */
const POLL_INTERVAL_MS = 1000;

export interface DemoManager {
  tokens: TokenManager;
  /** The provider's settings in OpenID Connect mode; null for the other origins. */
  oidc: DemoOidcSettings | null;
}

/**
 * The app's own token endpoint, as the README's "Your own backend" sets it up: the development
 * origin's app session routes (the refresh cookie is scoped to `/app/session`; the CSRF header is
 * what an app with SameSite cookies sends), or better-auth's JWT route, sign-out and key set.
 */
export const ENDPOINT_MANAGERS: Readonly<Record<EndpointKind, Pick<TokenManagerOptions, 'endpoint' | 'verify'>>> = {
  endpoint: {
    endpoint: { tokenUrl: '/app/session/token', signOutUrl: '/app/session/logout', headers: { 'X-Requested-With': 'tabtoken-demo' } },
  },
  'better-auth': {
    endpoint: { tokenUrl: '/api/auth/token', method: 'GET', signOutUrl: '/api/auth/sign-out' },
    verify: { jwksUrl: '/api/auth/jwks' },
  },
};

/**
 * Creates the manager; in OpenID Connect mode it first fetches the provider's settings from the
 * demo's server (and rejects when they cannot be had).
 *
 * @example
 * const { tokens, oidc } = await createDemoManager(chosenOrigin(location.search));
 */
export async function createDemoManager(kind: OriginKind): Promise<DemoManager> {
  if (kind === 'clerk') return { tokens: createTokenManager({ pollIntervalMs: POLL_INTERVAL_MS }), oidc: null };
  if (isEndpointKind(kind)) return { tokens: createTokenManager({ pollIntervalMs: POLL_INTERVAL_MS, ...ENDPOINT_MANAGERS[kind] }), oidc: null };
  const oidc = await loadOidcSettings();
  const tokens = createTokenManager({
    pollIntervalMs: POLL_INTERVAL_MS,
    oidc: { issuer: oidc.issuer, clientId: oidc.clientId, redirectUri: oidc.redirectUri, postLogoutRedirectUri: oidc.postLogoutRedirectUri },
    // tokens.fetch sends the token only to the page's origin and these.
    fetchOrigins: oidc.resourceUrl ? [new URL(oidc.resourceUrl).origin] : [],
  });
  return { tokens, oidc };
}
