/**
 * The oidc-provider configuration tabtoken's tests, benchmark and demo run against: one public
 * client (PKCE S256, code + refresh_token), refresh-token rotation, DPoP with ES256, revocation,
 * introspection, RP-initiated logout, CORS for the app's origins only, short access-token lifetimes
 * and no clock tolerance. Every choice below is one a real deployment could make; none fakes
 * what the provider does.
 */
import type { Configuration, JWK, KoaContextWithOIDC } from 'oidc-provider';

/** When the provider rotates a refresh token on use. */
export type RotationPolicy =
  /** Every refresh returns a new refresh token and consumes the old one, DPoP-bound or not. */
  | 'always'
  /**
   * oidc-provider's own default: public clients' Bearer refresh tokens rotate on every use;
   * sender-constrained (DPoP-bound) ones only once 70 % of their lifetime has passed.
   */
  | 'provider-default'
  /** Never: the refresh token stays the same for the grant's life. */
  | 'never';

/** What the configuration reads at request time, so a running provider can be changed. */
export interface ProviderSettings {
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  idTokenTtlSeconds: number;
  requireDpopNonce: boolean;
}

export interface ConfigurationInput {
  clientId: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  appOrigins: readonly string[];
  /** The confidential client the resource server and the test helpers introspect with. */
  introspector: { clientId: string; clientSecret: string };
  dpop: boolean;
  /** Require DPoP on every token request of the public client (`dpop_bound_access_tokens`). */
  dpopRequired: boolean;
  rotation: RotationPolicy;
  signingKey: JWK;
  cookieKeys: string[];
  dpopNonceSecret: Buffer;
  settings: ProviderSettings;
}

/** The oidc-provider `Configuration` for these inputs. */
export function providerConfiguration(input: ConfigurationInput): Configuration {
  const { settings } = input;
  const origins = new Set(input.appOrigins);
  const rotateRefreshToken: Configuration['rotateRefreshToken'] = input.rotation === 'always' ? true : input.rotation === 'never' ? false : undefined;
  return {
    clients: [
      {
        client_id: input.clientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: input.redirectUris,
        post_logout_redirect_uris: input.postLogoutRedirectUris,
        ...(input.dpop && input.dpopRequired ? { dpop_bound_access_tokens: true } : {}),
      },
      {
        client_id: input.introspector.clientId,
        client_secret: input.introspector.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      },
    ],
    // Only the app's own origins may call the token, revocation and introspection endpoints from a
    // page (discovery and JWKS stay open to every origin, as the provider always serves them).
    clientBasedCORS: (_ctx, origin) => origins.has(origin),
    clockTolerance: 0,
    pkce: { required: () => true },
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access'],
    ...(rotateRefreshToken === undefined ? {} : { rotateRefreshToken }),
    ttl: {
      AccessToken: () => settings.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: () => settings.idTokenTtlSeconds,
      RefreshToken: () => settings.refreshTokenTtlSeconds,
      Grant: () => settings.refreshTokenTtlSeconds,
      Session: 24 * 60 * 60,
      Interaction: 10 * 60,
    },
    jwks: { keys: [input.signingKey] },
    cookies: { keys: input.cookieKeys },
    enabledJWA: { dPoPSigningAlgValues: ['ES256'] },
    features: {
      devInteractions: { enabled: true },
      dPoP: {
        enabled: input.dpop,
        nonceSecret: input.dpopNonceSecret,
        requireNonce: () => settings.requireDpopNonce,
      },
      // A public client may revoke only its own tokens (the provider's default rule, stated here).
      revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      introspection: {
        enabled: true,
        // A public client may introspect its own tokens; the introspector client any token.
        allowedPolicy: (ctx: KoaContextWithOIDC, client, token) =>
          client.clientId === input.introspector.clientId || token.clientId === ctx.oidc.client?.clientId,
      },
      rpInitiatedLogout: { enabled: true },
      userinfo: { enabled: true },
    },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  };
}
