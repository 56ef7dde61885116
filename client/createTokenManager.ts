/**
 * `createTokenManager`: the tab side. It connects to the engine (SharedWorker, or the leader tab in
 * local mode), mirrors the broadcast snapshot, and answers reads from the mirror whenever the
 * token it holds is fresh, without a message to the engine.
 */
import { MIN_LEEWAY_S, cacheKey, channelName } from '../protocol/constants.ts';
import { ConnectionError, TokenError, InvalidArgumentError } from '../protocol/errors.ts';
import { parseBroadcast } from '../protocol/messages.ts';
import { normalizeGetTokenOptions, validateManagerOptions, validateSessionId } from '../protocol/options.ts';
import type { GetTokenOptions, Mode, ReadReport, Snapshot, Stats, TokenManagerOptions, TokenRequest } from '../protocol/types.ts';
import type { Connection } from './Connection.ts';
import { ReadTracker } from './ReadTracker.ts';
import { SharedConnection } from './SharedConnection.ts';
import { SnapshotMirror, type TokenManagerEvent, type TokenManagerEvents } from './SnapshotMirror.ts';
import { holdTabLock } from './tabLock.ts';

/** The object `createTokenManager` returns. */
export interface TokenManager {
  /** Resolves once this tab holds the whole snapshot and the session is known (or known absent). */
  readonly ready: Promise<void>;
  /** A token for the active session; `null` only when signed out. Rejects, never throws. */
  getToken(options?: GetTokenOptions): Promise<string | null>;
  /** The cached token if it is usable now, else `null` (and a mint starts in the background). */
  peekToken(options?: GetTokenOptions): string | null;
  /** The mirrored state; the same object until something changes. */
  getSnapshot(): Snapshot;
  /** Calls `listener` after every snapshot change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  on<E extends TokenManagerEvent>(event: E, handler: (payload: TokenManagerEvents[E]) => void): () => void;
  setActiveSession(sessionId: string | null): Promise<void>;
  signOut(): Promise<void>;
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  stats(): Promise<Stats>;
  close(): void;
}

function rejectWith(error: unknown): Promise<never> {
  return Promise.reject(error instanceof TokenError ? error : new ConnectionError(String(error), { cause: error }));
}

/**
 * Creates the tab's token manager. Throws `InvalidArgumentError` synchronously for bad options.
 *
 * @example
 * import { createTokenManager } from 'tabtoken';
 *
 * const tokens = createTokenManager({ frontendApi: 'https://clerk.example.com' });
 * await tokens.ready;
 * const jwt = await tokens.getToken(); // from the tab's mirror when fresh: no round trip
 * const res = await tokens.fetch('/api/me'); // adds `Authorization: Bearer <jwt>`
 */
export function createTokenManager(options?: TokenManagerOptions): TokenManager {
  const pageOrigin = typeof location !== 'undefined' ? location.origin : 'http://localhost';
  const { config, tab } = validateManagerOptions(options, pageOrigin);
  const name = channelName(config.namespace, new URL(config.frontendApi).origin);
  const tabId = crypto.randomUUID();
  const tabLeeway = Math.max(MIN_LEEWAY_S, tab.leewayInSeconds);
  const defaultRequest: TokenRequest = Object.freeze({ template: null, organizationId: null, expiresInSeconds: null, skipCache: false, leewayInSeconds: tabLeeway });
  const hardCutoffMs = config.pollIntervalMs;

  const wantShared = tab.mode === 'shared' || (tab.mode === 'auto' && typeof SharedWorker !== 'undefined');
  const mirror = new SnapshotMirror(wantShared ? 'shared' : 'local');
  const counters = { hits: 0, misses: 0 };
  let connection: Connection | null = null;
  let closed = false;
  let releaseLock: () => void = () => {};

  const channel = new BroadcastChannel(name);
  channel.onmessage = (event: MessageEvent) => {
    const message = parseBroadcast(event.data);
    if (!message) return;
    if (message.type === 'hello') onLeaderHello?.(message.instance, message.snapshot);
    else mirror.apply(message);
  };
  // Set by the local connection: a new leader announced itself.
  let onLeaderHello: ((instance: string, snapshot: unknown) => void) | null = null;

  const tracker = new ReadTracker(config.pollIntervalMs, (reads: ReadReport[]) => connection?.noteReads(reads));

  const hello = () => ({ tabId, config, sessionId: tab.sessionId, visible: typeof document === 'undefined' || document.visibilityState === 'visible' });

  const onEngineError = (error: TokenError) => mirror.emit('error', error);

  async function connectLocal(): Promise<Connection> {
    const { LocalConnection } = await import('./LocalConnection.ts');
    const local = new LocalConnection(config, tabId, name, mirror);
    onLeaderHello = (instance, snapshot) => local.onLeaderHello(instance, snapshot);
    return local;
  }

  async function connect(): Promise<void> {
    releaseLock = await holdTabLock(tabId);
    if (wantShared) {
      try {
        connection = new SharedConnection(name, tab.workerUrl);
        const welcome = await connection.hello(hello(), onEngineError);
        mirror.adopt(welcome.instance, welcome.snapshot);
        return;
      } catch (error) {
        connection?.close();
        connection = null;
        if (tab.mode !== 'auto' || error instanceof InvalidArgumentError) throw error;
        // auto: a worker that cannot start (CSP, a bad URL) falls back to local mode.
        mirror.setMode('local');
        mirror.emit('error', error instanceof TokenError ? error : new ConnectionError(String(error)));
      }
    }
    connection = await connectLocal();
    const welcome = await connection.hello(hello(), onEngineError);
    mirror.adopt(welcome.instance, welcome.snapshot);
  }

  const ready = connect().then(() => {
    if (closed) throw new ConnectionError('The token manager was closed');
  });
  ready.catch((error: unknown) => mirror.emit('error', error instanceof TokenError ? error : new ConnectionError(String(error))));

  const onVisibility = () => {
    if (document.visibilityState === 'visible') connection?.visible();
  };
  if (typeof document !== 'undefined') document.addEventListener('visibilitychange', onVisibility);

  let keyFor: { sessionId: string; key: string } | null = null;
  function defaultKey(sessionId: string): string {
    if (keyFor?.sessionId !== sessionId) keyFor = { sessionId, key: cacheKey(sessionId, defaultRequest) };
    return keyFor.key;
  }

  /**
   * The mirror's token for a read, when it may be served now: fresh, or stale but above the hard
   * cutoff (then one background refresh is asked for), or — in an outage — until its real expiry.
   */
  function fromMirror(request: TokenRequest, isDefault: boolean): string | null {
    const snapshot = mirror.snapshot;
    const sessionId = snapshot.sessionId;
    if (sessionId === null || request.skipCache) return null;
    const key = isDefault ? defaultKey(sessionId) : cacheKey(sessionId, request);
    const token = snapshot.tokens[key];
    if (!token) return null;
    const now = Date.now();
    const remaining = token.expiresAt - now;
    tracker.read(key, request);
    if (remaining > request.leewayInSeconds * 1000) return token.jwt;
    if (remaining > hardCutoffMs || (snapshot.status === 'degraded' && remaining > 0)) {
      if (tracker.mayAsk(key, now)) connection?.refresh(request);
      return token.jwt;
    }
    return null;
  }

  function getToken(options?: GetTokenOptions): Promise<string | null> {
    let request = defaultRequest;
    if (options !== undefined) {
      try {
        request = normalizeGetTokenOptions(options, tabLeeway);
      } catch (error) {
        return rejectWith(error);
      }
    }
    if (closed) return rejectWith(new ConnectionError('The token manager was closed'));
    const jwt = fromMirror(request, options === undefined);
    if (jwt !== null) {
      counters.hits++;
      return Promise.resolve(jwt);
    }
    counters.misses++;
    if (mirror.snapshot.status === 'signed-out' && !request.skipCache) return Promise.resolve(null);
    return ready.then(() => {
      if (!connection) throw new ConnectionError('Not connected');
      return connection.getToken(request);
    }).catch((error: unknown) => {
      const typed = error instanceof TokenError ? error : new ConnectionError(String(error), { cause: error });
      mirror.emit('error', typed);
      throw typed;
    });
  }

  function peekToken(options?: GetTokenOptions): string | null {
    const request = options === undefined ? defaultRequest : normalizeGetTokenOptions(options, tabLeeway);
    const jwt = closed ? null : fromMirror(request, options === undefined);
    if (jwt !== null) {
      counters.hits++;
      return jwt;
    }
    counters.misses++;
    // Nothing usable: start the mint in the background so a later read finds it.
    if (!closed && mirror.snapshot.sessionId !== null && mirror.snapshot.status !== 'signed-out') {
      void ready.then(() => connection?.getToken({ ...request, skipCache: false })).catch(() => {});
    }
    return null;
  }

  const manager: TokenManager = {
    ready,
    getToken,
    peekToken,
    getSnapshot: () => mirror.snapshot,
    subscribe: (listener) => mirror.subscribe(listener),
    on: (event, handler) => mirror.on(event, handler),
    async setActiveSession(sessionId: string | null) {
      if (sessionId !== null) validateSessionId(sessionId);
      await ready;
      await connection?.setActiveSession(sessionId);
    },
    async signOut() {
      await ready;
      await connection?.signOut();
    },
    // Loaded on first use: it is not on the path to the first token.
    fetch: (input, init) => import('./authorizedFetch.ts').then((m) => m.authorizedFetch(manager, tab.fetchOrigins, input, init)),
    async stats(): Promise<Stats> {
      await ready;
      if (!connection) throw new ConnectionError('Not connected');
      const engine = await connection.stats();
      return { ...engine, tab: { ...counters } };
    },
    close() {
      if (closed) return;
      closed = true;
      tracker.close();
      channel.close();
      if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onVisibility);
      connection?.close();
      releaseLock();
    },
  };
  return manager;
}

export type { Mode };
