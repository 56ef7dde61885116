/**
 * One token of a token manager as a small external store, the part the React and Vue bindings
 * share. `getState()` is pure (it derives `{ token, status, error }` from the manager's snapshot and
 * returns the same object until one of them changes), so React can call it while rendering and on
 * the server. Everything with an effect happens only while the store has a listener:
 *
 * - with no usable token (none cached, or expired), one read (`getToken`) starts the mint; a read
 *   that failed is not repeated until the status, the session or the entry changes;
 * - a cached token is read again when it turns stale, which asks for its refresh at once (the
 *   engine keeps the token fresh anyway; this also tells it the key is still in use), and the
 *   token is dropped from the state when it expires with no replacement (an outage past expiry);
 * - the refreshed token reaches the state through the snapshot, like every other change.
 */
import { cacheKey, ConnectionError, TokenError, type GetTokenOptions, type Snapshot, type SnapshotToken, type Status, type TokenManager } from 'tabtoken';

/** What `useToken` gives: the token for its options, the manager's status, and the last failure. */
export interface TokenState {
  /** The token for the options; `null` while there is none yet, when signed out, or after a failure. */
  readonly token: string | null;
  readonly status: Status;
  /** Why there is no token (the read's rejection); `null` once a token arrives, and when signed out. */
  readonly error: TokenError | null;
}

export interface TokenStore {
  subscribe(listener: () => void): () => void;
  getState(): TokenState;
}

/** The leeway every read has at least (seconds), as the manager applies it. */
const MIN_LEEWAY_S = 15;
/** setTimeout holds at most 2^31 − 1 ms (about 24.8 days); a later moment is reached in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * What identifies a hook's options: equal for two object literals with the same values, so a new
 * literal on every render restarts nothing. The cache-key parts, plus the leeway and skipCache of
 * the read itself.
 */
export function optionsKey(options?: GetTokenOptions): string {
  if (options === undefined || options === null) return '';
  return `${cacheKey('', options)}|${String(options.leewayInSeconds ?? '')}|${options.skipCache === true ? 1 : ''}`;
}

const asTokenError = (error: unknown): TokenError => (error instanceof TokenError ? error : new ConnectionError(String(error), { cause: error }));

/**
 * Creates the store for `options` (copied: a later change of the caller's object changes nothing).
 *
 * @example
 * const store = createTokenStore(tokens, { template: 'api' });
 * const stop = store.subscribe(() => console.log(store.getState().token));
 */
export function createTokenStore(tokens: TokenManager, options?: GetTokenOptions): TokenStore {
  const own: GetTokenOptions | undefined = options ? { ...options } : undefined;
  // Only the first read may skip the cache: later reads must not mint on every change.
  let request: GetTokenOptions | undefined = own;
  const cached: GetTokenOptions | undefined = own?.skipCache ? { ...own, skipCache: false } : own;
  const leewayMs = Math.max(MIN_LEEWAY_S, Number.isFinite(own?.leewayInSeconds) ? Number(own?.leewayInSeconds) : 0) * 1000;

  const listeners = new Set<() => void>();
  let offSnapshot: (() => void) | null = null;
  let timers: ReturnType<typeof setTimeout>[] = [];
  let error: TokenError | null = null;
  /** Bumped when a token's expiry passes, so `getState` looks at the clock again. */
  let tick = 0;
  let inflight = false;
  /** The situation (status, session, entry) in which the last read failed; not retried in it. */
  let failedIn: readonly unknown[] | null = null;
  /** The entry whose arrival last cleared the error. */
  let seenEntry: SnapshotToken | undefined;

  let state: TokenState = Object.freeze({ token: null, status: tokens.getSnapshot().status, error: null });
  let memo: { snapshot: Snapshot; error: TokenError | null; tick: number } | null = null;

  const entryOf = (snapshot: Snapshot): SnapshotToken | undefined =>
    snapshot.sessionId === null ? undefined : snapshot.tokens[cacheKey(snapshot.sessionId, own)];

  function getState(): TokenState {
    const snapshot = tokens.getSnapshot();
    if (memo && memo.snapshot === snapshot && memo.error === error && memo.tick === tick) return state;
    memo = { snapshot, error, tick };
    const entry = entryOf(snapshot);
    const token = entry !== undefined && entry.expiresAt > Date.now() ? entry.jwt : null;
    if (token !== state.token || snapshot.status !== state.status || error !== state.error) {
      state = Object.freeze({ token, status: snapshot.status, error });
    }
    return state;
  }

  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  const setError = (next: TokenError | null) => {
    if (next === error) return;
    error = next;
    notify();
  };

  function clearTimers(): void {
    for (const timer of timers) clearTimeout(timer);
    timers = [];
  }

  /** Calls `fn` at `time` (this machine's clock, ms), or re-plans when that is beyond setTimeout's reach. */
  function at(time: number, fn: () => void): void {
    const delay = time - Date.now();
    timers.push(delay > MAX_DELAY_MS ? setTimeout(sync, MAX_DELAY_MS) : setTimeout(fn, Math.max(0, delay)));
  }

  function read(situation: readonly unknown[] | null): void {
    if (inflight) return;
    inflight = true;
    const options = request;
    request = cached;
    tokens.getToken(options).then(
      () => {
        inflight = false;
        failedIn = null;
        if (listeners.size > 0) setError(null);
      },
      (reason: unknown) => {
        inflight = false;
        failedIn = situation;
        if (listeners.size > 0) setError(asTokenError(reason));
      },
    );
  }

  /** Decides, after every change, whether a read is due now or later. */
  function sync(): void {
    clearTimers();
    if (listeners.size === 0) return;
    const snapshot = tokens.getSnapshot();
    const { status, sessionId } = snapshot;
    // Until the first snapshot the manager is connecting; its change brings us back here.
    if (status === 'connecting') return;
    if (status === 'signed-out') {
      failedIn = null;
      request = cached;
      return setError(null);
    }
    const entry = entryOf(snapshot);
    const now = Date.now();
    if (entry !== undefined && entry.expiresAt > now) {
      if (entry !== seenEntry) {
        seenEntry = entry;
        failedIn = null;
        setError(null);
      }
      if (request?.skipCache) return read(null);
      at(Math.min(entry.staleAt, entry.expiresAt - leewayMs), () => read(null));
      at(entry.expiresAt, () => {
        tick++;
        notify();
        sync();
      });
      return;
    }
    const situation = [status, sessionId, entry] as const;
    if (failedIn !== null && situation.every((part, i) => Object.is(part, failedIn![i]))) return;
    read(situation);
  }

  function onSnapshot(): void {
    sync();
    notify();
  }

  return {
    getState,
    subscribe(listener) {
      listeners.add(listener);
      if (listeners.size === 1) {
        offSnapshot = tokens.subscribe(onSnapshot);
        // A manager that cannot connect stays `connecting`: its rejection is this token's error.
        tokens.ready.then(undefined, (reason: unknown) => {
          if (listeners.size > 0 && tokens.getSnapshot().status === 'connecting') setError(asTokenError(reason));
        });
        sync();
      }
      return () => {
        if (!listeners.delete(listener) || listeners.size > 0) return;
        offSnapshot?.();
        offSnapshot = null;
        clearTimers();
      };
    },
  };
}
