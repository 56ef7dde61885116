/**
 * A real, certified OpenID provider on loopback for tabtoken's tests, benchmark and demo: the npm
 * package `oidc-provider`, behind a stoppable proxy whose URL is the issuer, with its own event log,
 * an introspection helper, a view of its storage, and a DPoP-only resource server beside it.
 *
 * Version: oidc-provider 9 (a devDependency; nothing in dist/ imports it). It is the maintained
 * line, its only runtime dependencies are koa 3, debug and jose 6 — the same jose major as the
 * library — and DefinitelyTyped has types for it. Its runtime check asks for a Node 22 LTS and
 * prints "Unsupported runtime" on Node 20, but the newer APIs it calls (`URL.parse`, `crypto.hash`)
 * are in Node 20 from 20.18 and 20.12, below this package's `engines` (>= 20.19): the whole test suite
 * runs it on Node 20.20. Version 8 would have meant jose 5 and got beside the library's jose 6, on a
 * line that no longer gets releases.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';
import { startDpopResourceServer, type DpopResourceServer, type Introspection } from './DpopResourceServer.ts';
import { faultLayer, type ProviderFaults } from './faultLayer.ts';
import { ProviderEventLog } from './ProviderEventLog.ts';
import { providerConfiguration, type ProviderSettings, type RotationPolicy } from './providerConfiguration.ts';
import { ProviderStore } from './ProviderStore.ts';
import { startProxy, type Proxy as ProviderProxy } from './startProxy.ts';

export type { RotationPolicy } from './providerConfiguration.ts';

/** Options of {@link startOidcProvider}. */
export interface OidcProviderOptions {
  /** Origins of the app's pages: the only ones CORS lets call the token, revocation and introspection endpoints (and the resource server). */
  appOrigins: readonly string[];
  /** The public client's registered redirect URIs (exact matches). */
  redirectUris: readonly string[];
  /** Where RP-initiated logout may send the browser back. Default: none. */
  postLogoutRedirectUris?: readonly string[];
  /** The public client's id. Default `'tabtoken-app'`. */
  clientId?: string;
  /** Access-token lifetime (`expires_in`). Default 30; tests use ≤ 30. */
  accessTokenTtlSeconds?: number;
  /** Refresh-token (and grant) lifetime. Default one day. */
  refreshTokenTtlSeconds?: number;
  /** ID-token lifetime. Default 300. */
  idTokenTtlSeconds?: number;
  /**
   * DPoP (RFC 9449). `true` (the default) offers it — discovery lists
   * `dpop_signing_alg_values_supported: ['ES256']` and a request with a proof gets bound tokens;
   * `false` turns the feature off (discovery lists no DPoP). With `required`, the public client
   * must send a proof on every token request; with `requireNonce`, the token endpoint answers
   * `use_dpop_nonce` until a proof carries the provider's nonce.
   */
  dpop?: boolean | { required?: boolean; requireNonce?: boolean };
  /** When refresh tokens rotate. Default `'always'`. */
  rotation?: RotationPolicy;
  /**
   * oidc-provider drops `offline_access` from an authorization request that does not say
   * `prompt=consent` (OpenID Connect Core 11), so a plain `signIn()` would get no refresh token.
   * By default an authorization request asking for `offline_access` without a `prompt` is given
   * `prompt=consent` (the consent page then shows, and the refresh token is issued), which is how
   * Keycloak, Auth0, Okta and Entra treat `offline_access`. `true` keeps the provider's strict rule.
   */
  offlineAccessNeedsConsentPrompt?: boolean;
  /** Start the DPoP resource server beside the provider. Default true. */
  resourceServer?: boolean | { requireNonce?: boolean };
  /** Interface to bind to. Default 127.0.0.1. */
  host?: string;
}

/** A running provider. */
export interface RunningOidcProvider {
  /** The issuer: the proxy's URL, which is what the app uses. */
  readonly issuer: string;
  readonly clientId: string;
  /** The provider's own address behind the proxy (it answers with URLs of this host; tests use `issuer`). */
  readonly directUrl: string;
  readonly provider: Provider;
  /** The proxy in front of the provider: `stop()` takes it "down", `start()` brings it back. */
  readonly proxy: ProviderProxy;
  /** Faults on single paths (a JWKS that is down, a token answer held on its way back), behind the proxy. */
  readonly faults: ProviderFaults;
  /** The path of one of the provider's endpoints (`token`, `jwks`, `revocation`, …), as its discovery document names it. */
  endpointPath(name: 'token' | 'jwks' | 'revocation' | 'authorization' | 'end_session' | 'introspection'): string;
  /** What the provider saw, from its own events. */
  readonly events: ProviderEventLog;
  /** The provider's storage (grants, refresh tokens). */
  readonly store: ProviderStore;
  /** The DPoP-only resource server, or null when it was not started. */
  readonly resource: DpopResourceServer | null;
  /** Lifetimes and the DPoP nonce rule, read by the provider at each request: change them while it runs. */
  readonly settings: ProviderSettings;
  /** RFC 7662 introspection of any token, by the introspector client, at the provider's own address (works while the proxy is stopped). */
  introspect(token: string): Promise<Introspection>;
  /** The grant's current refresh token, read from the provider's storage, or null (revoked, unknown). */
  currentRefreshToken(grantId: string): string | null;
  /** Stops the resource server, the proxy and the provider. */
  stop(): Promise<void>;
}

/**
 * One RS256 key per process: an RSA key takes from a quarter of a second to seconds to make on this
 * machine, and each test starts its own provider. Providers of one process then share a signing key
 * (each has its own issuer, so no token of one passes another's `iss` check).
 */
let signingKey: Promise<JWK> | null = null;
function processSigningKey(): Promise<JWK> {
  signingKey ??= (async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    return { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: randomBytes(8).toString('base64url') };
  })();
  return signingKey;
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * Starts oidc-provider on a free port of 127.0.0.1 behind a proxy, configured for tabtoken.
 *
 * @example
 * const op = await startOidcProvider({ appOrigins: [app], redirectUris: [`${app}/callback`], accessTokenTtlSeconds: 20 });
 * // the app: createTokenManager({ oidc: { issuer: op.issuer, clientId: op.clientId, redirectUri: `${app}/callback` } })
 * await op.proxy.stop();  // the provider is down; its grants survive
 * await op.proxy.start();
 * op.events.grant(grantId)?.refreshes.length;
 * const restore = op.faults.unreachable(op.endpointPath('jwks')); // one path down, the rest answers
 * restore();
 * await op.stop();
 */
export async function startOidcProvider(options: OidcProviderOptions): Promise<RunningOidcProvider> {
  const host = options.host ?? '127.0.0.1';
  const clientId = options.clientId ?? 'tabtoken-app';
  const dpopOption = options.dpop ?? true;
  const dpop = dpopOption !== false;
  const dpopDetails = typeof dpopOption === 'object' ? dpopOption : {};
  const settings: ProviderSettings = {
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 30,
    refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? 24 * 60 * 60,
    idTokenTtlSeconds: options.idTokenTtlSeconds ?? 300,
    requireDpopNonce: dpopDetails.requireNonce ?? false,
  };
  for (const [name, value] of Object.entries(settings)) {
    if (typeof value === 'number' && !(Number.isSafeInteger(value) && value > 0))
      throw new TypeError(`startOidcProvider: ${name} must be a positive integer, not ${value}`);
  }
  const introspector = { clientId: `${clientId}-introspector`, clientSecret: randomBytes(24).toString('base64url') };

  // The issuer must be the proxy's URL, and the proxy needs the provider's port: listen first, attach the provider after.
  let handler: RequestListener | null = null;
  const server = createServer((req, res) => {
    if (handler) return handler(req, res);
    res.statusCode = 503;
    res.end();
  });
  const port = await listen(server, host);
  const directUrl = `http://${host}:${port}`;
  const proxy = await startProxy(directUrl, { host });
  const issuer = proxy.url;

  const store = new ProviderStore();
  const provider = new Provider(issuer, {
    adapter: store.adapter,
    ...providerConfiguration({
      clientId,
      redirectUris: [...options.redirectUris],
      postLogoutRedirectUris: [...(options.postLogoutRedirectUris ?? [])],
      appOrigins: options.appOrigins,
      introspector,
      dpop,
      dpopRequired: dpopDetails.required ?? false,
      rotation: options.rotation ?? 'always',
      signingKey: await processSigningKey(),
      cookieKeys: [randomBytes(32).toString('base64url')],
      dpopNonceSecret: randomBytes(32),
      settings,
    }),
  });
  if (!options.offlineAccessNeedsConsentPrompt) {
    const authorizationPath = new URL(provider.urlFor('authorization')).pathname;
    provider.use(async (ctx, next) => {
      if (ctx.method === 'GET' && ctx.path === authorizationPath) {
        const { scope, prompt } = ctx.query;
        if (typeof scope === 'string' && scope.split(' ').includes('offline_access') && prompt === undefined) {
          ctx.query = { ...ctx.query, prompt: 'consent' };
        }
      }
      await next();
    });
  }
  const events = new ProviderEventLog(provider);
  const layer = faultLayer();
  handler = layer.wrap(provider.callback());

  const introspect = async (token: string): Promise<Introspection> => {
    const res = await fetch(`${directUrl}${new URL(provider.urlFor('introspection')).pathname}`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(introspector.clientId)}:${encodeURIComponent(introspector.clientSecret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ token }),
    });
    const body = (await res.json()) as Introspection;
    if (res.status !== 200 || typeof body.active !== 'boolean') throw new Error(`introspection answered ${res.status}: ${JSON.stringify(body)}`);
    return body;
  };

  const resourceOption = options.resourceServer ?? true;
  const resource =
    resourceOption === false
      ? null
      : await startDpopResourceServer({
          introspect,
          appOrigins: options.appOrigins,
          requireNonce: typeof resourceOption === 'object' ? (resourceOption.requireNonce ?? false) : false,
          host,
        });

  return {
    issuer,
    clientId,
    directUrl,
    provider,
    proxy,
    faults: layer.faults,
    endpointPath: (name) => new URL(provider.urlFor(name)).pathname,
    events,
    store,
    resource,
    settings,
    introspect,
    currentRefreshToken: (grantId) => store.currentRefreshToken(grantId),
    async stop() {
      await resource?.stop();
      await proxy.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
