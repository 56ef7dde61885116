/**
 * tabtoken against the same provider, on the same terms as the peer: one SharedWorker per origin
 * holds the grant and is the only caller of the token endpoint; rotation on, DPoP off. It reads the
 * way an app does before each API call, `getToken()`, answered from the tab's mirror when fresh.
 */
import { createTokenManager } from 'tabtoken';
import type { OidcContender, OidcContenderParams } from './OidcContender.ts';

export function createTabtokenOidc(params: OidcContenderParams): OidcContender {
  const tokens = createTokenManager({
    namespace: params.namespace.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64),
    oidc: { issuer: params.issuer, clientId: params.clientId, redirectUri: params.redirectUri, dpop: false },
    ...(params.refreshMarginS === null ? {} : { leewayInSeconds: params.refreshMarginS }),
  });
  return {
    ready: tokens.ready.then(() => undefined),
    signIn: () => tokens.signIn(),
    handleRedirect: async (url) => {
      await tokens.handleRedirect(url);
    },
    read: () => tokens.getToken(),
    signedIn: async () => tokens.getSnapshot().status === 'ok' && tokens.peekToken() !== null,
    close: () => tokens.close(),
  };
}
