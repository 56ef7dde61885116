/**
 * `createTokenManager`: the tab side. It connects to the engine (SharedWorker, or the leader tab in
 * local mode), mirrors the broadcast snapshot, and answers reads from the mirror whenever the
 * token it holds is fresh, without a message to the engine.
 */
import { randomId } from '../protocol/randomId.ts';
import { cacheKey, workerKey } from '../protocol/names.ts';
import { systemClock } from '../protocol/clock.ts';
import { ConnectionError, TokenError } from '../protocol/errors.ts';
import { classify } from '../protocol/freshness.ts';
import { isBroadcast } from '../protocol/messages.ts';
import { normalizeGetTokenOptions, validateManagerOptions } from './options.ts';
import type { GetTokenOptions, TokenManagerOptions, TokenRequest } from '../protocol/types.ts';
import type { Operation, Operations } from '../protocol/operations.ts';
import { createReadTracker } from './ReadTracker.ts';
import { SharedConnection } from './SharedConnection.ts';
import { holdTabLock } from './tabLock.ts';
import { SnapshotMirror } from './SnapshotMirror.ts';
import type { ManagerCore } from './managerActions.ts';
import type { TokenManager } from './TokenManager.ts';
import { closedError, STALL_MS } from './Connection.ts';
import type { First, Supervised } from './superviseConnection.ts';

const typed = (error: unknown): TokenError => (error instanceof TokenError ? error : new ConnectionError(String(error), { cause: error }));
const visible = () => globalThis.document?.visibilityState !== 'hidden';

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
  const { config, tab } = validateManagerOptions(options, globalThis.location?.origin ?? 'http://localhost');
  const name = workerKey(config);
  const tabId = randomId();
  const shared = tab.mode === 'shared' || (tab.mode === 'auto' && typeof SharedWorker !== 'undefined');
  let link: Supervised | null = null;
  let closed = false;

  /** A call to the engine once connected (the link retries it on a replacement worker). */
  const call = <K extends Operation>(op: K, arg: Operations[K][0]): Promise<Operations[K][1]> => ready.then(supervise).then((l) => l.call(op, arg));
  const quiet = <K extends Operation>(op: K, arg: Operations[K][0]) => void call(op, arg).catch(() => {});
  const onError = (error: unknown) => mirror.emit('error', typed(error));

  const hello = { tabId, config, sessionId: tab.sessionId, visible: visible(), fetchOrigins: tab.fetchOrigins };
  /** The worker this tab said hello to first, and the instance it answered with, once adopted. */
  let first: First<SharedConnection> | undefined;
  let linking: Promise<Supervised> | undefined;
  /**
   * The code that keeps the link up (superviseConnection.ts, a chunk of its own): loaded once the
   * tab is ready, off the path of its first token — or at once when there is no first worker to wait
   * for, when its hello fails, or when it goes unanswered for a while (a worker that does not run the
   * engine: the supervision finds the one that does).
   */
  const supervise = () =>
    (linking ??= import('./superviseConnection.ts').then(({ superviseConnection }) => {
      link = superviseConnection({
        key: name,
        hello,
        mirror,
        shared,
        fallback: tab.mode === 'auto',
        onError,
        workerUrl: tab.workerUrl,
        first,
        // The page lifecycle (SPEC 6): stored in the back/forward cache or frozen, the tab's channel
        // closes and its report timer stops, and reads wait for the engine's snapshot, asked for now
        // and sent once the tab is back; back, the channel opens before that snapshot is taken.
        away() {
          channel?.close();
          tracker.close();
          mirror.resync();
        },
        back: listen,
      });
      // Closed while this code loaded: nothing more to start.
      if (closed) link.close();
      return link;
    }));

  function connect(): Promise<unknown> {
    // Server-side rendering runs the app's modules with no document: start nothing there (an
    // engine would poll from the server, and an open channel would keep the process alive).
    if (!globalThis.document) return Promise.reject(new ConnectionError('No document: tabtoken runs in browser tabs (not in server-side rendering)'));
    // The worker first: its hello goes out before anything else, and what the tab sets up meanwhile
    // overlaps with the worker's answer. Its welcome is adopted here, so the first token needs no
    // more than the worker's answer.
    if (shared) {
      try {
        const worker = new SharedConnection(name, tab.workerUrl, tabId, systemClock, hello);
        first = {
          worker,
          welcome: worker.welcome!.then(({ instance, snapshot }) => {
            mirror.adopt(instance, snapshot);
            return instance;
          }),
          // Asked for at once and held while the tab is attached; the worker waits on it, once told the
          // tab holds it, to learn that the tab closed.
          held: holdTabLock(tabId),
        };
        void Promise.all([first.welcome, first.held]).then(
          () => worker.held(),
          () => {},
        );
        // A worker of a name of its own runs the engine (the key's worker died with tabs open): the
        // key's worker waits, and the supervision moves this tab at once (superviseConnection.ts).
        globalThis.navigator?.locks?.query().then(
          ({ held }) => void (held?.some((lock) => lock.name?.startsWith(`${name}#`)) && supervise()),
          () => {},
        );
        systemClock.setTimeout(supervise, STALL_MS);
      } catch {
        // The browser refused to start the worker: the supervision tries again, and falls back.
      }
    }
    listen();
    const supervised = () => supervise().then((l) => l.connected);
    return first ? first.welcome.catch(supervised) : supervised();
  }

  let channel: BroadcastChannel | null = null;
  /** The channel, opened before the engine can take the snapshot the tab adopts next. */
  function listen(): void {
    channel = new BroadcastChannel(name);
    // A local-mode leader's `hello` is for its followers' connections (LocalConnection), not the mirror.
    channel.onmessage = ({ data }: MessageEvent) => isBroadcast(data) && mirror.apply(data);
  }

  const connecting = connect();
  // After the hello went out (connect only hands it closures). A resync asks the engine over the port
  // (SPEC 6: the port is the authority, the channel the fast path).
  const mirror = new SnapshotMirror(shared ? 'shared' : 'local', () => call('snapshot', null));
  const ready = connecting.then(
    () => {
      if (closed) throw closedError();
    },
    (error: unknown) => {
      throw closed ? closedError() : typed(error);
    },
  );

  const defaultRequest: TokenRequest = Object.freeze(normalizeGetTokenOptions(null, tab.leewayInSeconds));
  const counters = { hits: 0, misses: 0 };
  const tracker = createReadTracker(config.pollIntervalMs, (reads) => quiet('noteReads', reads), systemClock);

  const onVisibility = () => visible() && quiet('visible', null);
  globalThis.document?.addEventListener('visibilitychange', onVisibility);

  const actions = () => import('./managerActions.ts');
  // Loaded ahead of use once connected: a sign-out must not need the network to load its code, nor
  // a replacement worker its supervision. In a task of their own, after the app's first read: a
  // bundler's dynamic import does work at once (Vite inserts its modulepreload links, ~1 ms each),
  // which would otherwise run before the code awaiting `ready`. This also handles `ready`'s
  // rejection, which is the caller's to read (and every later call rejects with it): never an
  // `error` event, never an unhandled rejection.
  ready.then(() => systemClock.setTimeout(() => Promise.all([actions(), supervise()]).catch(() => {}), 0)).catch(() => {});

  let defaultKey: [sessionId: string, key: string] = ['', ''];

  /**
   * The mirror's token for a read, when it may be served now: fresh, or stale but above the hard
   * cutoff (then one background refresh is asked for), or — in an outage — until its real expiry.
   * This is the hot path: an object read and one clock read.
   */
  function fromMirror(request: TokenRequest, isDefault: boolean): string | null {
    const { sessionId, tokens, status } = mirror.snapshot;
    if (sessionId === null || request.skipCache || closed || link?.detached) return null;
    if (isDefault && defaultKey[0] !== sessionId) defaultKey = [sessionId, cacheKey(sessionId, defaultRequest)];
    const key = isDefault ? defaultKey[1] : cacheKey(sessionId, request);
    const token = tokens[key];
    if (!token) return null;
    const now = systemClock.now();
    tracker.read(key, request);
    const freshness = classify(token.expiresAt, request.leewayInSeconds, now, config.pollIntervalMs, status === 'degraded');
    if (freshness === 'hard') return null;
    if (freshness === 'stale' && tracker.mayAsk(key, now)) quiet('refresh', request);
    return token.jwt;
  }

  function read(options: GetTokenOptions | undefined): [TokenRequest, string | null] {
    const request = options === undefined ? defaultRequest : normalizeGetTokenOptions(options, tab.leewayInSeconds, !!(config.oidc || config.endpoint));
    const jwt = fromMirror(request, options === undefined);
    counters[jwt === null ? 'misses' : 'hits']++;
    return [request, jwt];
  }

  /** A read of the mirror, and of the engine when the mirror cannot answer it. */
  function serve(options: GetTokenOptions | undefined): Promise<string | null> {
    let request: TokenRequest;
    let jwt: string | null;
    try {
      [request, jwt] = read(options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (jwt !== null) return Promise.resolve(jwt);
    if (closed) return Promise.reject(closedError());
    if (mirror.snapshot.status === 'signed-out' && !request.skipCache) return Promise.resolve(null);
    // The engine's answer, off the hot path (its code loads once the tab is ready). A failure goes to
    // this caller only: the `error` event is for failures no caller receives.
    return actions()
      .then((m) => m.fromEngine(core, request))
      .catch((error: unknown) => {
        throw typed(error);
      });
  }

  const manager: TokenManager = {
    ready,
    setActiveSession: (sessionId) => actions().then((m) => m.setActiveSession(core, sessionId)),
    sync: () => actions().then((m) => m.sync(core)),
    signOut: () => actions().then((m) => m.signOut(core)),
    signIn: (options) => actions().then((m) => m.signIn(core, options)),
    handleRedirect: (url) => actions().then((m) => m.handleRedirect(core, url)),
    // Not on the path to the first token either (`tokens.fetch`'s helper comes with it).
    fetch: (input, init) => actions().then((m) => m.fetch(core, input, init)),
    stats: () => actions().then((m) => m.stats(core)),
    getToken(options) {
      // Before the welcome the mirror is empty, and while a resync is out it is known to be off (a
      // gap, or a sign-out the engine has not confirmed yet): wait for the port's snapshot — one round
      // trip — then read it. So a forged sign-out never makes a read resolve null.
      const settled = mirror.snapshot.version < 0 ? ready : mirror.resyncing;
      return settled && !closed ? settled.then(() => serve(options)) : serve(options);
    },
    peekToken(options) {
      const [request, jwt] = read(options);
      // Nothing usable: start the mint in the background so a later read finds it.
      const { sessionId, status } = mirror.snapshot;
      // A background mint that nobody awaits: should it fail, the `error` event says so.
      if (jwt === null && !closed && !link?.detached && sessionId !== null && status !== 'signed-out') quiet('refresh', { ...request, skipCache: false });
      return jwt;
    },
    getSnapshot: () => mirror.snapshot,
    subscribe: (listener) => mirror.subscribe(listener),
    on: (event, handler) => mirror.on(event, handler),
    close() {
      if (closed) return;
      closed = true;
      tracker.close();
      channel?.close();
      globalThis.document?.removeEventListener('visibilitychange', onVisibility);
      // Before its supervision loaded, the tab's only link is the first worker's port.
      if (link) link.close();
      else {
        first?.worker.close();
        void first?.held.then((release) => release());
      }
    },
  };
  /** What the methods off the token path use (managerActions.ts, loaded on first use). */
  const core: ManagerCore = {
    config,
    fetchOrigins: tab.fetchOrigins,
    call,
    mirror,
    tokens: manager,
    reads: counters,
  };
  return manager;
}
