import type { SerializedError } from './errors.ts';

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

/** Options of `createTokenManager`. */
export interface TokenManagerOptions {
  /** Base URL of the token origin, same-site as the page; default `location.origin`. */
  frontendApi?: string;
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
  jwt: string;
  expiresAt: number;
  staleAt: number;
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
  /** The session's user; null when signed out. */
  readonly userId: string | null;
  /** The default token's JWT payload; null when signed out. */
  readonly claims: Readonly<Record<string, unknown>> | null;
  readonly tokens: Readonly<Record<string, SnapshotToken>>;
}

/** Counters of the engine and of the calling tab. */
export interface Stats {
  tabs: number;
  mints: number;
  requests: { mint: number; client: number; end: number; failed: number };
  refreshes: { background: number; foreground: number };
  tab: { hits: number; misses: number };
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
}

/** One normalised read: what identifies the token plus how it is asked for. */
export interface TokenRequest {
  template: string | null;
  organizationId: string | null;
  expiresInSeconds: number | null;
  skipCache: boolean;
  /** Already raised to at least 15. */
  leewayInSeconds: number;
}

/** A key a tab read, with the largest leeway asked for it, reported at most once per poll interval. */
export interface ReadReport {
  key: string;
  request: TokenRequest;
}

/** The snapshot as the engine keeps it; the transport adds `mode`. */
export type EngineSnapshot = Omit<Snapshot, 'mode'>;

/** A change the engine publishes; the transport stamps it with `v`, `instance` and sends it. */
export type EngineChange =
  | { type: 'token'; version: number; key: string; jwt: string; expiresAt: number; staleAt: number }
  | { type: 'evict'; version: number; key: string }
  | { type: 'signout'; version: number; sessionId: string }
  | { type: 'status'; version: number; status: Status; since: number; sessionId: string | null; storage: StorageKind };

/**
 * The engine as its transports (the SharedWorker entry, the local-mode leader) use it.
 * Implemented by `worker/TokenEngine.ts`.
 */
export interface Engine {
  /** Resolves once storage is restored and the session is known (or known to be absent). */
  readonly ready: Promise<void>;
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
  setActiveSession(sessionId: string | null): Promise<void>;
  signOut(): Promise<void>;
  stats(): EngineStats;
  close(): void;
}

/** What a tab sends when it connects. */
export interface TabHello {
  tabId: string;
  config: EngineConfig;
  sessionId: string | null;
  visible: boolean;
}

/** What the worker answers a connecting tab. */
export interface Welcome {
  instance: string;
  snapshot: Snapshot;
}

/** The worker's surface as a tab sees it through comlink (one port per tab). */
export interface WorkerApi {
  /** `onError` hears the engine's failures that no call of this tab awaits (a background refresh, sign-out's end request). */
  hello(hello: TabHello, onError?: (error: SerializedError) => void): Promise<Welcome>;
  getToken(request: TokenRequest): Promise<string | null>;
  refresh(request: TokenRequest): void;
  noteReads(reads: ReadReport[]): void;
  visible(): void;
  setActiveSession(sessionId: string | null): Promise<void>;
  signOut(): Promise<void>;
  stats(): Promise<EngineStats>;
  /** The tab now holds its Web Lock `tabtoken:tab:{id}`: the worker may wait on it (shared mode). */
  held(): void;
  bye(tabId: string): void;
}
