import {
  MAX_PERSISTED_LIFETIME_S,
  MIN_LEEWAY_S,
  OUTAGE_WAIT_MS,
  SESSION_ID_PATTERN,
  cacheKey,
  randomId,
} from '../protocol/constants.ts';
import { ConnectionError, InvalidArgumentError, MissingExpiredTokenError } from '../protocol/errors.ts';
import { isTokenRequest } from '../protocol/messages.ts';
import { normalizeGetTokenOptions, parseEngineConfig, validateSessionId } from '../protocol/options.ts';
import type {
  Engine,
  EngineChange,
  EngineConfig,
  EngineSnapshot,
  EngineStats,
  ReadReport,
  SnapshotToken,
  Status,
  StorageKind,
  TokenRequest,
} from '../protocol/types.ts';
import { systemClock, type Clock } from './Clock.ts';
import { Flight } from './Flight.ts';
import { IdbTokenStore } from './IdbTokenStore.ts';
import { Minter, type MintTarget, type MintedToken } from './Minter.ts';
import { OutagePolicy, unavailableAfter } from './OutagePolicy.ts';
import { Poller } from './Poller.ts';
import { RetryPolicy } from './RetryPolicy.ts';
import { SessionDiscovery, type ClientState } from './SessionDiscovery.ts';
import { TokenCache, type CacheEntry } from './TokenCache.ts';
import type { TokenStore } from './TokenStore.ts';
import { TokenValidator } from './TokenValidator.ts';

/** What the engine is given instead of reaching for globals. */
export interface TokenEngineDeps {
  clock: Clock;
  fetch: typeof fetch;
  /** null: nothing is persisted (`storage: 'memory'`). Ignored when `config.persist` is false. */
  store: TokenStore | null;
  /** Source of backoff jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** A name for this engine in reports; default a random UUID. */
  instanceLabel?: string;
}

/** Every state change of the engine goes through `#dispatch` as one of these. */
type Action =
  /** Storage was read at start: the active session and its tokens. */
  | { type: 'restore'; sessionId: string; entries: [string, CacheEntry][]; lastActive: CacheEntry | null }
  /** A minted token was accepted by the cache's freshness rule. */
  | { type: 'token'; key: string; entry: CacheEntry }
  | { type: 'evict'; key: string }
  /** The active session switches to another known session (not a sign-out). */
  | { type: 'session'; sessionId: string }
  /** The session is gone: its tokens are dropped everywhere, its waiters get null. */
  | { type: 'signout'; sessionId: string; dismiss: boolean }
  /** GET {client} answered: nobody is signed in. */
  | { type: 'no-session' }
  /** The outage flag changed (or anything else that only moves the status). */
  | { type: 'status' }
  | { type: 'storage'; storage: StorageKind }
  | { type: 'close' };

type ErrorListener = (error: unknown) => void;

const DEFAULT_TARGET: MintTarget = Object.freeze({ template: null, organizationId: null, expiresInSeconds: null });
const DEFAULT_REQUEST: TokenRequest = Object.freeze({ ...DEFAULT_TARGET, skipCache: false, leewayInSeconds: MIN_LEEWAY_S });
/**
 * How long the start waits for storage. IndexedDB can hang rather than fail (an open blocked by
 * another connection's upgrade); `ready` must not hang with it.
 */
const STORE_RESTORE_TIMEOUT_MS = 3000;
/** Tabs report reads in one batch per poll interval; more keys than this in one batch is not a tab. */
const MAX_READS_PER_REPORT = 1000;

/**
 * The token engine (SPEC 3–5): one per `{namespace, origin}`, owned by the SharedWorker (or the
 * local-mode leader). It holds the token cache, the single poller, the outage fallback and the
 * persistence, and publishes every change as an `EngineChange` with a rising version.
 *
 * State changes only in `#dispatch` (a reducer over `Action`), which also runs the effects that
 * mirror state — storage writes, settling waiters of a signed-out session — and notifies
 * subscribers once per change. Everything else decides *which* action to dispatch.
 *
 * @example
 * const engine = createEngine(config);
 * await engine.ready;
 * engine.setTabCount(1);
 * const jwt = await engine.getToken(normalizeGetTokenOptions({ template: 'api' }));
 */
export class TokenEngine implements Engine {
  readonly ready: Promise<void>;
  readonly instanceLabel: string;

  readonly #config: EngineConfig;
  readonly #clock: Clock;
  readonly #cache = new TokenCache();
  readonly #minter: Minter;
  readonly #discovery: SessionDiscovery;
  readonly #outage: OutagePolicy;
  readonly #poller: Poller;
  readonly #listeners = new Set<(change: EngineChange) => void>();
  readonly #errorListeners = new Set<ErrorListener>();
  readonly #flights = new Map<string, Flight>();
  /** The freshest default token of each session, expired or not: the outage re-mint needs it. */
  readonly #lastActive = new Map<string, CacheEntry>();
  /** Sessions signed out here: discovery must not pick them again from GET {client}. */
  readonly #dismissed = new Set<string>();
  readonly #sessionWaiters = new Set<{ resolve: () => void; reject: (error: unknown) => void; timer: unknown }>();
  readonly #refreshes = { background: 0, foreground: 0 };

  #store: TokenStore | null;
  #storage: StorageKind;
  #persistChain: Promise<void> = Promise.resolve();
  #sessionId: string | null = null;
  /** GET {client} answered that nobody is signed in (or the session was signed out here). */
  #signedOut = false;
  /** Rises on every sign-out and session switch; work started under an older epoch is dropped. */
  #epoch = 0;
  #status: Status = 'connecting';
  #since: number;
  #version = 0;
  #snapshot: EngineSnapshot | null = null;
  #published: { status: Status; sessionId: string | null; storage: StorageKind };
  #tabs = 0;
  #discovering: Promise<void> | null = null;
  /** A discovery is owed once the backoff gate opens. */
  #discoveryPending = false;
  /** A session restored from storage still has to be re-checked against GET {client}. */
  #recheckPending = false;
  /** When the active session reaches its `expire_at` (local clock), when `GET {client}` told us. */
  #sessionEndsAt: number | null = null;
  #closed = false;

  constructor(config: EngineConfig, deps: TokenEngineDeps) {
    this.#config = TokenEngine.#validateConfig(config);
    this.#clock = deps.clock;
    this.instanceLabel = deps.instanceLabel ?? randomId();
    const validator = new TokenValidator(this.#config.verify, deps.fetch);
    this.#minter = new Minter(this.#config, { clock: deps.clock, fetch: deps.fetch, validator });
    this.#discovery = new SessionDiscovery(this.#minter);
    this.#outage = new OutagePolicy({ clock: deps.clock, retry: new RetryPolicy(deps.random ?? Math.random), onRetry: () => this.#drainRetries() });
    this.#poller = new Poller({ clock: deps.clock, intervalMs: this.#config.pollIntervalMs, onTick: () => this.#tick() });
    this.#store = this.#config.persist ? deps.store : null;
    this.#storage = this.#store ? 'indexeddb' : 'memory';
    this.#since = deps.clock.now();
    this.#published = { status: this.#status, sessionId: null, storage: this.#storage };
    this.ready = this.#start();
  }

  // ─── Engine surface ──────────────────────────────────────────────────────────────────────────

  snapshot(): EngineSnapshot {
    if (this.#snapshot === null) {
      const tokens: Record<string, SnapshotToken> = {};
      for (const [key, e] of this.#cache.entries()) tokens[key] = Object.freeze({ jwt: e.jwt, expiresAt: e.expiresAt, staleAt: e.staleAt });
      this.#snapshot = Object.freeze({
        version: this.#version,
        status: this.#published.status,
        storage: this.#published.storage,
        sessionId: this.#published.sessionId,
        userId: null,
        claims: null,
        tokens: Object.freeze(tokens),
      });
    }
    return this.#snapshot;
  }

  subscribe(listener: (change: EngineChange) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Errors nobody awaits: a failed background refresh, a failed `end` call, a storage failure.
   * Not part of `Engine`; the transports forward them to the tabs' `error` event.
   */
  onError(listener: ErrorListener): () => void {
    this.#errorListeners.add(listener);
    return () => {
      this.#errorListeners.delete(listener);
    };
  }

  async getToken(request: TokenRequest): Promise<string | null> {
    const valid = TokenEngine.#validateRequest(request);
    await this.ready;
    return this.#read(valid, this.#clock.now() + OUTAGE_WAIT_MS);
  }

  refresh(request: TokenRequest): void {
    const valid = TokenEngine.#validateRequest(request);
    const sessionId = this.#sessionId;
    if (this.#closed || sessionId === null) return;
    const key = cacheKey(sessionId, valid);
    this.#poller.note(key, valid);
    const entry = this.#cache.get(key);
    if (!entry || entry.expiresAt - this.#clock.now() <= valid.leewayInSeconds * 1000) this.#ensureFlight(key, sessionId, valid, true);
  }

  noteReads(reads: readonly ReadReport[]): void {
    if (!Array.isArray(reads) || reads.length > MAX_READS_PER_REPORT) throw new InvalidArgumentError(`reads must be an array of at most ${MAX_READS_PER_REPORT} read reports`);
    // Validate the whole batch before applying any of it.
    const valid = reads.map((read: unknown) => {
      if (typeof read !== 'object' || read === null || typeof (read as ReadReport).key !== 'string') throw new InvalidArgumentError('a read report must be { key, request }');
      return { key: (read as ReadReport).key, request: TokenEngine.#validateRequest((read as ReadReport).request) };
    });
    const sessionId = this.#sessionId;
    if (this.#closed || sessionId === null) return;
    for (const { key, request } of valid) {
      // A report about another session's key was made before a switch: it no longer means anything.
      if (key === cacheKey(sessionId, request)) this.#poller.note(key, request);
    }
  }

  visible(): void {
    if (this.#closed) return;
    if (this.#sessionId === null) {
      if (this.#signedOut) this.#requestDiscovery();
      return;
    }
    // Not the re-check of a restored session: every tab says hello with `visible: true` when it
    // opens, so re-checking here would put `GET {client}` ahead of the first token of a reload
    // (SPEC 10). The first poll tick does it, in the background.
    this.#refreshDue();
  }

  setTabCount(count: number): void {
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) throw new InvalidArgumentError(`tab count must be a non-negative integer; got ${String(count)}`);
    this.#tabs = count;
    if (!this.#closed) this.#poller.setActive(count > 0);
  }

  async setActiveSession(sessionId: string | null): Promise<void> {
    const id = sessionId === null ? null : validateSessionId(sessionId);
    await this.ready;
    if (this.#closed) return;
    if (id === null) {
      // Signed out here, without telling the origin: the session stays alive there, so discovery
      // must not pick it up again on the next poll.
      if (this.#sessionId !== null) this.#dispatch({ type: 'signout', sessionId: this.#sessionId, dismiss: true });
      else if (!this.#signedOut) this.#dispatch({ type: 'no-session' });
      return;
    }
    this.#dismissed.delete(id);
    if (id === this.#sessionId) return;
    this.#dispatch({ type: 'session', sessionId: id });
    this.#ensureDefaultToken();
  }

  async signOut(): Promise<void> {
    await this.ready;
    const sessionId = this.#sessionId;
    if (this.#closed || sessionId === null) return;
    // Locally first: from this moment no API returns the session's tokens, whatever the origin says.
    this.#dispatch({ type: 'signout', sessionId, dismiss: true });
    try {
      await this.#minter.endSession(sessionId);
    } catch (error) {
      this.#report(error);
    }
  }

  stats(): EngineStats {
    const c = this.#minter.counters;
    return {
      tabs: this.#tabs,
      mints: c.mints,
      requests: { mint: c.mint, client: c.client, end: c.end, failed: c.failed },
      refreshes: { ...this.#refreshes },
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#dispatch({ type: 'close' });
  }

  /** Resolves when every storage write issued so far has settled (tests, orderly shutdown). */
  flush(): Promise<void> {
    return this.#persistChain;
  }

  // ─── Reads ──────────────────────────────────────────────────────────────────────────────────

  /**
   * The SWR table of SPEC 4. `deadline` bounds how long the caller waits in total (OUTAGE_WAIT_MS
   * from the call), across a wait for the session and a wait for a mint.
   */
  #read(request: TokenRequest, deadline: number): Promise<string | null> {
    if (this.#closed) return Promise.reject(new ConnectionError('The token engine is closed'));
    const sessionId = this.#sessionId;
    if (sessionId === null) {
      if (this.#signedOut) return Promise.resolve(null);
      // Cold start with the origin unreachable: wait for discovery as long as the deadline allows.
      return this.#waitForSession(deadline).then(() => this.#read(request, deadline));
    }
    const key = cacheKey(sessionId, request);
    this.#poller.note(key, request);
    const entry = this.#cache.get(key);
    if (entry && !request.skipCache) {
      const freshness = TokenCache.classify(entry, {
        leewayS: request.leewayInSeconds,
        now: this.#clock.now(),
        hardCutoffMs: this.#config.pollIntervalMs,
        degraded: this.#outage.failing,
      });
      if (freshness === 'fresh') return Promise.resolve(entry.jwt);
      if (freshness === 'stale') {
        // Stale-while-revalidate: the caller gets the stale token now; one refresh for everyone.
        this.#ensureFlight(key, sessionId, request, true);
        return Promise.resolve(entry.jwt);
      }
    }
    const flight = this.#ensureFlight(key, sessionId, request, false);
    // At least a second, so a caller whose session just became known is not failed by rounding.
    return flight.wait(request, Math.max(1000, deadline - this.#clock.now()));
  }

  #waitForSession(deadline: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject, timer: null as unknown };
      waiter.timer = this.#clock.setTimeout(() => {
        this.#sessionWaiters.delete(waiter);
        reject(unavailableAfter(this.#outage.lastError));
      }, Math.max(0, deadline - this.#clock.now()));
      this.#sessionWaiters.add(waiter);
      if (!this.#discovering) this.#requestDiscovery();
    });
  }

  #releaseSessionWaiters(error?: unknown): void {
    const waiters = [...this.#sessionWaiters];
    this.#sessionWaiters.clear();
    for (const w of waiters) {
      this.#clock.clearTimeout(w.timer);
      if (error === undefined) w.resolve();
      else w.reject(error);
    }
  }

  // ─── Mints ──────────────────────────────────────────────────────────────────────────────────

  /** The flight of `key`, started if there is none: concurrent reads of a key share one request. */
  #ensureFlight(key: string, sessionId: string, request: TokenRequest, background: boolean): Flight {
    const existing = this.#flights.get(key);
    if (existing && !existing.done) return existing;
    const target: MintTarget = { template: request.template, organizationId: request.organizationId, expiresInSeconds: request.expiresInSeconds };
    const flight = new Flight({ key, sessionId, epoch: this.#epoch, target, background, clock: this.#clock });
    this.#flights.set(key, flight);
    this.#refreshes[background ? 'background' : 'foreground']++;
    this.#launch(flight);
    return flight;
  }

  /** Sends the flight's request now, or parks it until the backoff gate opens (never bypassed). */
  #launch(flight: Flight): void {
    if (!this.#outage.isOpen()) {
      flight.state = 'waiting';
      this.#outage.wake();
      return;
    }
    flight.state = 'running';
    void this.#attempt(flight);
  }

  async #attempt(flight: Flight): Promise<void> {
    let minted: MintedToken;
    try {
      minted = await this.#mintWithOutageFallback(flight);
    } catch (error) {
      this.#mintFailed(flight, error);
      return;
    }
    // A response that lands after the session it was minted for is gone is dropped:
    //
    //   getToken ──mint (epoch 3)─────────────────────────▶ 200 { jwt }   dropped: epoch is now 4
    //            signOut() ─▶ epoch 4, tokens evicted, waiters resolved null, storage cleared
    //
    // Without the epoch the late token would be cached and published after the sign-out, and a tab
    // would return a token of a session the user just left.
    if (flight.epoch !== this.#epoch || this.#closed) return;
    this.#originAnswered();
    const entry: CacheEntry = {
      jwt: minted.jwt,
      expiresAt: minted.expiresAt,
      staleAt: TokenCache.staleAt(minted.expiresAt),
      oiat: minted.oiat,
      iat: minted.iat,
      lifetimeS: minted.exp - minted.iat,
    };
    this.#dispatch({ type: 'token', key: flight.key, entry });
    this.#finish(flight);
    // The waiters get the token the cache now holds: the one just minted, unless the cache already
    // had a fresher one (SPEC 4 freshness rule) — and even when it is shorter-lived than the cutoff.
    flight.resolve(this.#cache.get(flight.key)?.jwt ?? minted.jwt);
  }

  /**
   * The first success after a failure: status back to ok, the backoff reset, and everything parked
   * behind the gate sent now (the gate's timer was cancelled with the backoff).
   */
  #originAnswered(): void {
    if (!this.#outage.success()) return;
    this.#dispatch({ type: 'status' });
    this.#drainRetries();
  }

  /**
   * One mint, and in outage mode (SPEC 5, seed 003) one retry with the lastActiveToken:
   *
   *   POST tokens ─▶ 422 missing_expired_token ─▶ POST tokens?expired_token=<lastActive> ─▶ 200
   */
  async #mintWithOutageFallback(flight: Flight): Promise<MintedToken> {
    try {
      return await this.#minter.mint(flight.sessionId, flight.target, null);
    } catch (error) {
      if (OutagePolicy.classify(error) !== 'missing-expired-token' || flight.epoch !== this.#epoch) throw error;
      const last = this.#lastActive.get(flight.sessionId);
      if (!last) throw new MissingExpiredTokenError(undefined, { cause: error });
      return await this.#minter.mint(flight.sessionId, flight.target, last.jwt);
    }
  }

  #mintFailed(flight: Flight, error: unknown): void {
    // Already settled by a sign-out or a switch: nobody is left to tell.
    if (flight.epoch !== this.#epoch || this.#closed) return;
    flight.lastError = error;
    switch (OutagePolicy.classify(error)) {
      case 'signout':
        this.#dispatch({ type: 'signout', sessionId: flight.sessionId, dismiss: false });
        return;
      case 'outage':
        if (this.#outage.failure(error)) this.#dispatch({ type: 'status' });
        if (!this.#wanted(flight)) {
          this.#finish(flight);
          return;
        }
        // Waiters keep waiting (each until its own deadline); the flight retries when the gate opens.
        flight.state = 'waiting';
        this.#outage.wake();
        return;
      default:
        // Not retried (SPEC 5): the waiters get the error, the previous token stays, and the poller
        // leaves the key alone until someone reads it again.
        this.#finish(flight);
        this.#poller.block(flight.key);
        if (flight.waiterCount === 0) this.#report(error);
        flight.reject(error);
    }
  }

  /** Whether a failed flight is still worth retrying in the background. */
  #wanted(flight: Flight): boolean {
    return (
      flight.waiterCount > 0 ||
      flight.key === this.#defaultKey() ||
      this.#cache.has(flight.key) ||
      this.#poller.leewayOf(flight.key) !== null
    );
  }

  #finish(flight: Flight): void {
    if (this.#flights.get(flight.key) === flight) this.#flights.delete(flight.key);
  }

  /** The backoff gate opened (or a success reopened it): everything parked behind it goes now. */
  #drainRetries(): void {
    if (this.#closed) return;
    if (!this.#outage.isOpen()) {
      this.#outage.wake();
      return;
    }
    for (const flight of [...this.#flights.values()]) {
      if (flight.state !== 'waiting' || flight.done) continue;
      if (flight.epoch !== this.#epoch || !this.#wanted(flight)) {
        this.#finish(flight);
        continue;
      }
      this.#launch(flight);
    }
    if (this.#discoveryPending) {
      this.#discoveryPending = false;
      this.#requestDiscovery();
    }
  }

  // ─── Poller ─────────────────────────────────────────────────────────────────────────────────

  #tick(): void {
    if (this.#closed) return;
    if (this.#sessionId === null) {
      // Signed out: look for a sign-in made elsewhere (another tab, a test session token).
      if (this.#signedOut) this.#requestDiscovery();
      return;
    }
    this.#recheck();
    this.#checkSessionEnd();
    this.#refreshDue();
    this.#sweep();
  }

  /**
   * The end of a listed session, when it is still ahead: an origin that keeps listing a session past
   * its `expire_at` (one that extends sessions on activity) is not asked again every tick.
   */
  #endOf(state: ClientState, sessionId: string): number | null {
    const endsAt = state.endsAt.get(sessionId);
    return endsAt !== undefined && endsAt > this.#clock.now() ? endsAt : null;
  }

  /**
   * A session past its `expire_at` is looked up again at the next tick, so every tab signs out
   * within a poll interval of the end rather than at the next refresh of its token.
   */
  #checkSessionEnd(): void {
    if (this.#sessionEndsAt === null || this.#clock.now() < this.#sessionEndsAt) return;
    this.#sessionEndsAt = null;
    this.#requestDiscovery();
  }

  #recheck(): void {
    if (!this.#recheckPending) return;
    this.#recheckPending = false;
    this.#requestDiscovery();
  }

  /** Refreshes every read key within its leeway, and the default token of the active session. */
  #refreshDue(): void {
    const sessionId = this.#sessionId;
    if (sessionId === null) return;
    const now = this.#clock.now();
    const prefix = `${sessionId}|`;
    const due = this.#poller.due((key) => {
      const entry = key.startsWith(prefix) ? this.#cache.get(key) : undefined;
      return entry ? entry.expiresAt - now : null;
    });
    for (const read of due) this.#ensureFlight(read.key, sessionId, read.request, true);
    this.#ensureDefaultToken();
  }

  /** The default token of the active session is always kept fresh (SPEC 4). */
  #ensureDefaultToken(): void {
    const sessionId = this.#sessionId;
    if (sessionId === null || this.#closed) return;
    const key = this.#defaultKey();
    if (key === null || this.#poller.isBlocked(key)) return;
    const entry = this.#cache.get(key);
    const leewayS = Math.max(MIN_LEEWAY_S, this.#poller.leewayOf(key) ?? MIN_LEEWAY_S);
    if (!entry || entry.expiresAt - this.#clock.now() <= leewayS * 1000) this.#ensureFlight(key, sessionId, DEFAULT_REQUEST, true);
  }

  /** Drops tokens that have expired and that nobody has read for the read window. */
  #sweep(): void {
    const now = this.#clock.now();
    const defaultKey = this.#defaultKey();
    for (const [key, entry] of this.#cache.entries()) {
      if (key === defaultKey || entry.expiresAt > now || this.#poller.leewayOf(key) !== null) continue;
      this.#dispatch({ type: 'evict', key });
    }
  }

  #defaultKey(): string | null {
    return this.#sessionId === null ? null : cacheKey(this.#sessionId, DEFAULT_TARGET);
  }

  // ─── Sessions ───────────────────────────────────────────────────────────────────────────────

  async #start(): Promise<void> {
    try {
      if (await this.#restore()) {
        // A stored session makes ready resolve without a request. GET {client} re-checks it on the
        // first poll tick, not now and not on the hello of a visible tab: a reload with a fresh
        // stored token must reach its first token before any network request (SPEC 10).
        this.#recheckPending = true;
        this.#ensureDefaultToken();
        return;
      }
      this.#requestDiscovery();
      await this.#discovering;
    } catch (error) {
      // ready never rejects: whatever went wrong is reported, and the status says where we are.
      this.#report(error);
    }
  }

  /** Reads the store; true when an active session was restored. */
  async #restore(): Promise<boolean> {
    const store = this.#store;
    if (!store) return false;
    let sessionId: string | null;
    let stored: Map<string, { jwt: string; expiresAt: number }>;
    let lastJwt: string | null;
    try {
      sessionId = await this.#inTime(store.getActiveSessionId());
      if (sessionId === null || !SESSION_ID_PATTERN.test(sessionId)) return false;
      stored = await this.#inTime(store.getTokens(sessionId));
      lastJwt = await this.#inTime(store.getLastActiveToken(sessionId));
    } catch (error) {
      this.#storeFailed(error);
      return false;
    }
    if (this.#closed) return false;
    const now = this.#clock.now();
    const entries: [string, CacheEntry][] = [];
    for (const [key, token] of stored) {
      if (!key.startsWith(`${sessionId}|`) || key.split('|').length !== 4) continue;
      const entry = restoredEntry(token.jwt, token.expiresAt, sessionId);
      // An expired token is useless; one with more time left than its whole lifetime means the clock
      // was set back or the record is corrupt, and would be served past its real expiry.
      if (!entry || entry.expiresAt <= now || entry.expiresAt - now > entry.lifetimeS * 1000) continue;
      entries.push([key, entry]);
    }
    // The lastActiveToken is written after the token itself; a worker killed in between leaves only
    // the default token, which serves as well (expired or not).
    let lastActive = lastJwt === null ? null : restoredEntry(lastJwt, 0, sessionId);
    const storedDefault = stored.get(cacheKey(sessionId, DEFAULT_TARGET));
    const fromDefault = storedDefault ? restoredEntry(storedDefault.jwt, 0, sessionId) : null;
    if (fromDefault && (!lastActive || TokenCache.isAtLeastAsFresh(fromDefault, lastActive))) lastActive = fromDefault;
    this.#dispatch({ type: 'restore', sessionId, entries, lastActive });
    return true;
  }

  #inTime<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => reject(new Error(`Storage did not answer within ${STORE_RESTORE_TIMEOUT_MS} ms`)), STORE_RESTORE_TIMEOUT_MS);
      promise.then(
        (value) => {
          this.#clock.clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          this.#clock.clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /** One GET {client} at a time, and never while the backoff gate is closed. */
  #requestDiscovery(): void {
    if (this.#closed || this.#discovering) return;
    if (!this.#outage.isOpen()) {
      this.#discoveryPending = true;
      this.#outage.wake();
      return;
    }
    this.#discovering = this.#discover().finally(() => {
      this.#discovering = null;
    });
  }

  async #discover(): Promise<void> {
    const epoch = this.#epoch;
    let state: ClientState;
    try {
      state = await this.#discovery.read();
    } catch (error) {
      if (epoch !== this.#epoch || this.#closed) return;
      if (OutagePolicy.classify(error) === 'outage') {
        if (this.#outage.failure(error)) this.#dispatch({ type: 'status' });
        this.#discoveryPending = true;
        this.#outage.wake();
        return;
      }
      // A 4xx from GET {client}: the origin will not give us a client. Signed out, unless a session
      // is already known, which a failed re-check does not end.
      this.#report(error);
      if (this.#sessionId === null && !this.#signedOut) this.#dispatch({ type: 'no-session' });
      return;
    }
    // The answer describes the world before a switch or a sign-out made meanwhile; that choice stands:
    //
    //   GET client ──────────────────────────▶ { last_active: A }   dropped: epoch moved on
    //        setActiveSession(B) ─▶ epoch+1
    if (epoch !== this.#epoch || this.#closed) return;
    this.#originAnswered();
    const current = this.#sessionId;
    if (current !== null) {
      if (state.sessions.has(current)) {
        this.#sessionEndsAt = this.#endOf(state, current);
        return;
      }
      this.#dispatch({ type: 'signout', sessionId: current, dismiss: false });
    }
    const pick = state.lastActiveSessionId;
    if (pick !== null && !this.#dismissed.has(pick)) {
      this.#dispatch({ type: 'session', sessionId: pick });
      this.#sessionEndsAt = this.#endOf(state, pick);
      this.#ensureDefaultToken();
    } else {
      this.#dispatch({ type: 'no-session' });
    }
  }

  // ─── The reducer ────────────────────────────────────────────────────────────────────────────

  /**
   * The one place state changes. Each action updates state, then runs the effects that mirror it
   * (storage, waiters), then publishes its changes in order with rising versions.
   */
  #dispatch(action: Action): void {
    const changes: EngineChange[] = [];
    const evict = (key: string): void => {
      if (this.#cache.delete(key)) changes.push({ type: 'evict', version: ++this.#version, key });
    };
    const publishToken = (key: string, e: CacheEntry): void => {
      changes.push({ type: 'token', version: ++this.#version, key, jwt: e.jwt, expiresAt: e.expiresAt, staleAt: e.staleAt });
    };

    switch (action.type) {
      case 'restore': {
        this.#sessionId = action.sessionId;
        this.#signedOut = false;
        for (const [key, entry] of action.entries) if (this.#cache.offer(key, entry)) publishToken(key, entry);
        if (action.lastActive) this.#lastActive.set(action.sessionId, action.lastActive);
        break;
      }
      case 'token': {
        const { key, entry } = action;
        if (!this.#cache.offer(key, entry)) return;
        publishToken(key, entry);
        // Tokens that live longer than an hour stay in memory only; an older persisted one for the
        // key must not come back in its place after a reload.
        if (entry.lifetimeS <= MAX_PERSISTED_LIFETIME_S) this.#persist((s) => s.setToken(key, { jwt: entry.jwt, expiresAt: entry.expiresAt }));
        else this.#persist((s) => s.deleteToken(key));
        const sessionId = this.#sessionId;
        if (sessionId !== null && key === cacheKey(sessionId, DEFAULT_TARGET)) {
          const last = this.#lastActive.get(sessionId);
          if (!last || TokenCache.isAtLeastAsFresh(entry, last)) {
            this.#lastActive.set(sessionId, entry);
            this.#persist((s) => s.setLastActiveToken(sessionId, entry.jwt));
          }
        }
        break;
      }
      case 'evict': {
        evict(action.key);
        this.#persist((s) => s.deleteToken(action.key));
        break;
      }
      case 'session': {
        const previous = this.#sessionId;
        this.#epoch++;
        this.#sessionEndsAt = null;
        this.#sessionId = action.sessionId;
        this.#signedOut = false;
        if (previous !== null) {
          const keys = this.#cache.keysOf(previous);
          for (const key of keys) evict(key);
          this.#persist(async (s) => {
            for (const key of keys) await s.deleteToken(key);
          });
        }
        this.#persist((s) => s.setActiveSessionId(action.sessionId));
        // Callers waiting on the old session asked for "the active session's token": they get the new one.
        const deadline = this.#clock.now() + OUTAGE_WAIT_MS;
        this.#settleFlights((flight) => flight.sessionId !== action.sessionId, (flight) => flight.redirect((request) => this.#read(request, deadline)));
        break;
      }
      case 'signout': {
        const { sessionId } = action;
        if (this.#sessionId !== sessionId) return;
        this.#epoch++;
        this.#sessionEndsAt = null;
        this.#sessionId = null;
        this.#signedOut = true;
        if (action.dismiss) this.#dismissed.add(sessionId);
        for (const key of this.#cache.keysOf(sessionId)) evict(key);
        changes.push({ type: 'signout', version: ++this.#version, sessionId });
        this.#lastActive.delete(sessionId);
        this.#persist(async (s) => {
          await s.clearSession(sessionId);
          await s.setActiveSessionId(null);
        });
        // In-flight getToken calls of the session resolve null: signed out is not an error.
        this.#settleFlights((flight) => flight.sessionId === sessionId, (flight) => flight.resolve(null));
        break;
      }
      case 'no-session': {
        this.#signedOut = true;
        break;
      }
      case 'status':
        break;
      case 'storage': {
        this.#storage = action.storage;
        break;
      }
      case 'close': {
        this.#closed = true;
        this.#epoch++;
        this.#poller.close();
        this.#outage.close();
        this.#minter.abortAll();
        this.#settleFlights(() => true, (flight) => flight.reject(new ConnectionError('The token engine was closed')));
        this.#releaseSessionWaiters(new ConnectionError('The token engine was closed'));
        break;
      }
    }

    // Status, session and storage travel together in one `status` change whenever any of them moves.
    const status = this.#computeStatus();
    if (status !== this.#status) {
      this.#status = status;
      this.#since = this.#clock.now();
    }
    const p = this.#published;
    if (p.status !== status || p.sessionId !== this.#sessionId || p.storage !== this.#storage) {
      this.#published = { status, sessionId: this.#sessionId, storage: this.#storage };
      changes.push({ type: 'status', version: ++this.#version, status, since: this.#since, sessionId: this.#sessionId, storage: this.#storage });
    }
    if (this.#sessionId !== null || this.#signedOut) this.#releaseSessionWaiters();

    if (changes.length === 0) return;
    this.#snapshot = null;
    for (const change of changes) {
      for (const listener of [...this.#listeners]) {
        try {
          listener(change);
        } catch (error) {
          // One broken subscriber must not stop the others or the engine.
          this.#report(error);
        }
      }
    }
  }

  #computeStatus(): Status {
    if (this.#sessionId !== null) return this.#outage.failing ? 'degraded' : 'ok';
    if (this.#signedOut) return 'signed-out';
    return this.#outage.failing ? 'degraded' : 'connecting';
  }

  #settleFlights(match: (flight: Flight) => boolean, settle: (flight: Flight) => void): void {
    for (const [key, flight] of [...this.#flights]) {
      if (!match(flight)) continue;
      this.#flights.delete(key);
      settle(flight);
    }
  }

  // ─── Storage ────────────────────────────────────────────────────────────────────────────────

  /**
   * Queues one storage write. Writes run one after another in the order state changed, so a sign-out
   * that clears the session always lands after the token writes that preceded it.
   */
  #persist(op: (store: TokenStore) => Promise<void>): void {
    const store = this.#store;
    if (!store) return;
    this.#persistChain = this.#persistChain
      .then(() => (this.#store === store ? op(store) : undefined))
      .catch((error: unknown) => this.#storeFailed(error));
  }

  /** IndexedDB failed: carry on in memory, and say so in the snapshot. */
  #storeFailed(error: unknown): void {
    if (!this.#store) return;
    this.#store = null;
    this.#report(error);
    this.#dispatch({ type: 'storage', storage: 'memory' });
  }

  #report(error: unknown): void {
    for (const listener of [...this.#errorListeners]) {
      try {
        listener(error);
      } catch {
        // An error listener that throws has nowhere left to report to.
      }
    }
  }

  // ─── Edge validation ────────────────────────────────────────────────────────────────────────

  /** The engine trusts no tab: every request is validated again, before any network request. */
  static #validateRequest(request: unknown): TokenRequest {
    if (!isTokenRequest(request)) throw new InvalidArgumentError('request must be a TokenRequest { template, organizationId, expiresInSeconds, skipCache, leewayInSeconds }');
    return normalizeGetTokenOptions({
      ...(request.template !== null ? { template: request.template } : {}),
      organizationId: request.organizationId,
      ...(request.expiresInSeconds !== null ? { expiresInSeconds: request.expiresInSeconds } : {}),
      skipCache: request.skipCache,
      leewayInSeconds: request.leewayInSeconds,
    });
  }

  /** The config comes from the first tab: it goes through the same validation as the tab's options. */
  static #validateConfig(config: EngineConfig): EngineConfig {
    try {
      new URL(config.frontendApi);
    } catch {
      throw new InvalidArgumentError(`frontendApi must be an absolute URL; got ${JSON.stringify(String(config?.frontendApi))}`);
    }
    return parseEngineConfig(config);
  }
}

/** A cache entry rebuilt from a stored JWT; null when it does not read as a token of `sessionId`. */
function restoredEntry(jwt: string, expiresAt: number, sessionId: string): CacheEntry | null {
  const info = TokenValidator.inspect(jwt, sessionId);
  if (!info || !Number.isFinite(expiresAt)) return null;
  return { jwt, expiresAt, staleAt: TokenCache.staleAt(expiresAt), oiat: info.oiat, iat: info.iat, lifetimeS: info.exp - info.iat };
}

/**
 * An engine wired to the platform: the system clock, the global `fetch`, and IndexedDB when
 * `persist` is on. `overrides` replaces any of them.
 *
 * @example
 * const engine = createEngine(config);
 * engine.subscribe((change) => channel.postMessage({ v: 1, instance, ...change }));
 */
export function createEngine(config: EngineConfig, overrides: Partial<TokenEngineDeps> = {}): TokenEngine {
  return new TokenEngine(config, {
    clock: overrides.clock ?? systemClock,
    fetch: overrides.fetch ?? globalThis.fetch.bind(globalThis),
    store: overrides.store !== undefined ? overrides.store : config.persist ? new IdbTokenStore(config) : null,
    random: overrides.random ?? Math.random,
    ...(overrides.instanceLabel !== undefined ? { instanceLabel: overrides.instanceLabel } : {}),
  });
}
