/**
 * tabtoken against the same provider, on the same terms as the peer: one worker holds the grant,
 * rotation on, DPoP off. The OIDC manager is being written on main (issue 12); until it lands this
 * contender is marked not ready in `bench/oidc/contenders.mjs` and the runner does not open it.
 *
 * To fill in (a sketch of what it will be):
 *   const tokens = createTokenManager({ namespace: params.namespace, oidc: { issuer: params.issuer,
 *     clientId: params.clientId, redirectUri: params.redirectUri, dpop: false },
 *     leewayInSeconds: params.refreshMarginS ?? undefined });
 *   ready: tokens.ready, signIn: () => tokens.signIn(), handleRedirect: (url) => tokens.handleRedirect(url),
 *   read: () => tokens.getToken(), signedIn: async () => tokens.getSnapshot().status === 'ok', close: () => tokens.close()
 */
import type { OidcContender, OidcContenderParams } from './OidcContender.ts';

export function createTabtokenOidc(_params: OidcContenderParams): OidcContender {
  throw new Error("tabtoken's OIDC manager is not on this branch yet; bench/oidc/contenders.mjs marks it not ready");
}
