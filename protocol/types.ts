/**
 * Public types and the contract between a tab and the engine. Types only.
 */

/** Path templates under `frontendApi`; `{sid}` and `{template}` are replaced. */
export interface Endpoints {
  client: string;
  token: string;
  templateToken: string;
  endSession: string;
}

/** Signature verification of minted tokens against a JWKS (jose `createRemoteJWKSet`). */
export interface VerifyOptions {
  jwksUrl: string;
  issuer?: string;
  algorithms?: string[];
}

/**
 * OpenID Connect instead of the Clerk Frontend API: the worker holds the grant (the only copy of
 * the refresh token) and is the only caller of the token endpoint.
 */
export interface OidcOptions {
  /** https URL (http only for loopback hosts); its discovery document's `issuer` must equal it byte for byte. */
  issuer: string;
  /** A public client (token_endpoint_auth_method `none`). */
  clientId: string;
  /** Absolute URL on the page's origin, where the provider sends the browser back (call `handleRedirect()` there). */
  redirectUri: string;
  /** Default `'openid offline_access'`; must contain `openid`. */
  scope?: string;
  /** RFC 8707 resource indicator, sent on every token request. */
  resource?: string;
  /** Default: on when the provider lists ES256 in `dpop_signing_alg_values_supported`. */
  dpop?: boolean;
  /** Absolute URL on the page's origin, where the provider's logout sends the browser after `signOut()`. */
  postLogoutRedirectUri?: string;
}

/**
 * The app's own token endpoint instead of a token origin (SPEC 13): the worker (or the local-mode
 * leader) is the only caller of `tokenUrl`, so a cookie the server rotates at every call is never
 * presented twice by this browser.
 *
 * @example
 * createTokenManager({ endpoint: { tokenUrl: '/api/auth/token', method: 'GET', signOutUrl: '/api/auth/sign-out', headers: { 'X-CSRF': csrf } } });
 */
export interface EndpointOptions {
  /**
   * Where a token is asked for: an absolute https URL (http only on loopback hosts), or a path with a
   * single leading '/' on the page's origin. Its 2xx JSON answer carries `access_token`, `token` or `jwt`.
   */
  tokenUrl: string;
  /** Default `'POST'`, with no body and no Content-Type (better-auth's JWT route is `GET`). */
  method?: 'POST' | 'GET';
  /** Same rules as `tokenUrl`; POSTed by `signOut()`. */
  signOutUrl?: string;
  /**
   * Static headers of both calls, such as a CSRF header: names of letters, digits and '-' (up to 64),
   * values of printable ASCII up to 1024 characters; `Authorization`, `Cookie` and `DPoP` are refused.
   */
  headers?: Record<string, string>;
  /** Default `'include'`: the cookie is the credential. */
  credentials?: RequestCredentials;
}

/** Options of `createTokenManager`. */
export interface TokenManagerOptions {
  /** Base URL of the token origin, same-site as the page; default `location.origin`. */
  frontendApi?: string;
  /** Speak OpenID Connect with this provider (not combined with the Clerk options). */
  oidc?: OidcOptions;
  /** Get tokens from the app's own endpoint (not combined with the Clerk options or `oidc`). */
  endpoint?: EndpointOptions;
  /** The session to keep tokens for; otherwise discovered through `GET {client}`. */
  sessionId?: string;
  /** `auto`: SharedWorker when the browser has it, else `local`. */
  mode?: 'auto' | 'shared' | 'local';
  /** Isolates worker, channel and store; `/^[A-Za-z0-9_-]{0,64}$/`, default `''`. */
  namespace?: string;
  /** Where the worker script is served; default: bundled with the client. */
  workerUrl?: string | URL;
  /** Keep tokens in IndexedDB; default true. */
  persist?: boolean;
  /** Integer 1000..60000, default 5000. */
  pollIntervalMs?: number;
  /** Finite, ≥ 0, default 15; values below 15 are raised to 15. */
  leewayInSeconds?: number;
  /** Optional signature check of every minted token. */
  verify?: VerifyOptions;
  /** Paths of the origin's routes. */
  endpoints?: Partial<Endpoints>;
  /** Credentials mode of every request to the origin; default `'include'`. */
  credentials?: RequestCredentials;
  /** Origins besides the page's own to which `tokens.fetch` may send the token. */
  fetchOrigins?: string[];
}

/** Options of one `getToken` / `peekToken` call. */
export interface GetTokenOptions {
  template?: string;
  organizationId?: string | null;
  expiresInSeconds?: number;
  skipCache?: boolean;
  leewayInSeconds?: number;
}

/** One cached token as every tab sees it. `expiresAt` and `staleAt` are on this machine's clock (ms). */
export interface SnapshotToken {
  /** The token (an OpenID Connect access token may be opaque). */
  jwt: string;
  expiresAt: number;
  staleAt: number;
  /** Present only for a DPoP-bound token: send it as `Authorization: DPoP` with a proof (`tokens.fetch` does). */
  scheme?: 'DPoP';
}

export type Status = 'connecting' | 'ok' | 'degraded' | 'signed-out';
export type Mode = 'shared' | 'local';
export type StorageKind = 'indexeddb' | 'memory';

/** The state a tab mirrors. Immutable: a change makes a new object with a higher `version`. */
export interface Snapshot {
  readonly version: number;
  readonly status: Status;
  readonly mode: Mode;
  readonly storage: StorageKind;
  readonly sessionId: string | null;
  /** The session's user (Clerk: `user_id` of `GET {client}`); null when unknown or signed out. */
  readonly userId: string | null;
  /** The default token's JWT payload (OpenID Connect: the ID token's claims); null when signed out. */
  readonly claims: Claims | null;
  /** By cache key (`cacheKey()`). */
  readonly tokens: Readonly<Record<string, SnapshotToken>>;
}

/** A JWT payload as the snapshot carries it. */
export type Claims = Readonly<Record<string, unknown>>;

/** Counters of the engine and of the calling tab. */
export interface Stats {
  tabs: number;
  mints: number;
  requests: { mint: number; client: number; end: number; failed: number };
  refreshes: { background: number; foreground: number };
  tab: { hits: number; misses: number };
}

/** What `signOut` answers a tab. */
export interface SignedOut {
  version: number;
  /** Where the calling tab goes next (an OpenID provider's end-session endpoint), or null. */
  redirect: string | null;
}

/** The engine's part of `Stats`. */
export type EngineStats = Omit<Stats, 'tab'>;

/** Worker-level options, normalised; fixed by the first tab that starts the engine. */
export interface EngineConfig {
  /** Absolute URL without a trailing slash. */
  frontendApi: string;
  namespace: string;
  persist: boolean;
  pollIntervalMs: number;
  verify: VerifyOptions | null;
  endpoints: Endpoints;
  credentials: RequestCredentials;
  /** OpenID Connect (SPEC 11); null for the Clerk Frontend API. */
  oidc: OidcConfig | null;
  /** The app's own token endpoint (SPEC 13); null otherwise. */
  endpoint: EndpointConfig | null;
}

/** `EndpointOptions`, normalised: URLs absolute, every default filled in. */
export interface EndpointConfig {
  /** An absolute href (https, or http on a loopback host). */
  tokenUrl: string;
  method: 'POST' | 'GET';
  signOutUrl: string | null;
  headers: Record<string, string>;
  credentials: RequestCredentials;
}

/** `OidcOptions`, normalised. */
export interface OidcConfig {
  issuer: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  resource: string | null;
  /** null: on when the provider supports it. */
  dpop: boolean | null;
  postLogoutRedirectUri: string | null;
}

/** What `signIn()` asks of the engine. */
export interface SignInRequest {
  prompt: string | null;
  loginHint: string | null;
  /** A path of the app, starting with a single '/'. */
  returnTo: string;
}

/** A DPoP proof for one request of `tokens.fetch`, for the token it carries. */
export interface ProofRequest {
  htm: string;
  htu: string;
  token: string;
  nonce: string | null;
}

/** One normalised read: what identifies the token plus how it is asked for. */
export interface TokenRequest {
  template: string | null;
  organizationId: string | null;
  expiresInSeconds: number | null;
  skipCache: boolean;
  /** Already raised to at least 15. */
  leewayInSeconds: number;
  /**
   * With `skipCache`: the token a server just refused (`tokens.fetch` after a 401). A cached token
   * other than this one is newer and is served; only this one cached means a new mint.
   */
  refused?: string;
}

/** A key a tab read, with the largest leeway asked for it, reported at most once per poll interval. */
export interface ReadReport {
  key: string;
  request: TokenRequest;
}

/** The snapshot as the engine keeps it; the transport adds `mode`. */
export type EngineSnapshot = Omit<Snapshot, 'mode'>;

/**
 * A change the engine publishes, one per transition; the transport stamps it with `v`, `instance`
 * and sends it. A `status` carries the whole view (its `tokens` replace a tab's), a `signout` the
 * status it leaves, so no tab ever needs two messages to see one transition.
 */
export type EngineChange =
  /** `claims` only for the default key: its payload is the session's claims. */
  | { type: 'token'; version: number; key: string; jwt: string; expiresAt: number; staleAt: number; claims?: Claims; scheme?: 'DPoP' }
  | { type: 'evict'; version: number; key: string }
  /** `status`, `since` and `storage` when the sign-out is published as one message with its status. */
  | { type: 'signout'; version: number; sessionId: string; status?: Status; since?: number; storage?: StorageKind }
  /** `tokens`, when given, is the whole token map after the change (a transition published as one message). */
  | {
      type: 'status';
      version: number;
      status: Status;
      since: number;
      sessionId: string | null;
      userId: string | null;
      claims: Claims | null;
      storage: StorageKind;
      tokens?: Record<string, SnapshotToken>;
    };

/**
 * The engine as its transports (the SharedWorker entry, the local-mode leader) use it.
 * Implemented by `worker/TokenEngine.ts`.
 */
export interface Engine {
  /** Resolves once storage is restored and the session is known (or known to be absent). */
  readonly ready: Promise<void>;
  /** One token per session (OpenID Connect, the app's own endpoint): reads name no template, organization or lifetime. */
  readonly oneToken: boolean;
  snapshot(): EngineSnapshot;
  subscribe(listener: (change: EngineChange) => void): () => void;
  /**
   * Errors no caller awaits — a failed background refresh, a failed `{endSession}` call, a storage
   * failure — for the tabs' `error` event. Returns the unsubscribe function.
   */
  onError(listener: (error: unknown) => void): () => void;
  /** A token for the active session, minting (deduplicated) when needed; null when signed out. */
  getToken(request: TokenRequest): Promise<string | null>;
  /** Starts one deduplicated background refresh of the key (a tab saw it stale). */
  refresh(request: TokenRequest): void;
  /** Keys read by tabs since their last report; the poller keeps these fresh. */
  noteReads(reads: readonly ReadReport[]): void;
  /** A tab became visible: refresh keys within leeway now; re-read the client when signed out. */
  visible(): void;
  /** The number of connected tabs changed; the poller runs while it is above zero. */
  setTabCount(count: number): void;
  /**
   * Makes `sessionId` the active session once the origin confirms it is one (null: signed out here,
   * the origin not told). Resolves with the version that shows it.
   */
  setActiveSession(sessionId: string | null): Promise<number>;
  /** The session a tab was created with (its `sessionId` option): taken as given, checked in the background. */
  useSession(sessionId: string): Promise<void>;
  /** Reads the session from the origin now, outside the backoff; resolves with the version that shows it. */
  sync(): Promise<number>;
  /**
   * Signs every tab out and ends the session at the origin; resolves with the version of the
   * sign-out and, for an OpenID provider's logout, the URL the calling tab goes to.
   */
  signOut(): Promise<SignedOut>;
  /** OpenID Connect: a new authorization request; resolves with the URL to send the browser to. */
  signIn(request: SignInRequest): Promise<string>;
  /** OpenID Connect: redeems the provider's answer (the redirect URL); the new grant is every tab's. */
  handleRedirect(url: string): Promise<{ returnTo: string; version: number }>;
  /** OpenID Connect with DPoP: a proof for one request with the session's access token. */
  proof(request: ProofRequest): Promise<string>;
  stats(): EngineStats;
  close(): void;
}

/** What a tab sends when it connects. */
export interface TabHello {
  tabId: string;
  config: EngineConfig;
  sessionId: string | null;
  visible: boolean;
  /** The tab's `fetchOrigins` (origins, as `URL.origin` spells them): with the page's own, where its proofs may go. */
  fetchOrigins: string[];
}

/** What the worker answers a connecting tab. */
export interface Welcome {
  instance: string;
  snapshot: Snapshot;
}
