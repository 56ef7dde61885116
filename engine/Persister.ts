import { SESSION_ID_PATTERN } from '../protocol/constants.ts';
import type { Clock } from '../protocol/clock.ts';
import { isAtLeastAsFresh, staleAt } from '../protocol/freshness.ts';
import type { StorageKind } from '../protocol/types.ts';
import type { Action, CacheEntry, StoreWrite } from './engineState.ts';
import { defaultKeyOf } from './reduce.ts';
import type { TokenOrigin } from './TokenOrigin.ts';
import type { StoredToken, TokenStore } from './TokenStore.ts';

/**
 * How long the start waits for storage. IndexedDB can hang rather than fail (an open blocked by
 * another connection's upgrade); `ready` must not hang with it.
 */
export const STORE_RESTORE_TIMEOUT_MS = 3000;

/** What storage held at start, as read. */
export interface StoredSession {
  sessionId: string;
  userId: string | null;
  tokens: Map<string, StoredToken>;
  lastJwt: string | null;
}

/**
 * The engine's persistence (SPEC 4): writes run one after another in the order state changed, so a
 * sign-out that clears the session always lands after the token writes that preceded it; the
 * restore at start gives up after 3 s. The first failure of either turns persistence off for good
 * (`onFailure`): the engine carries on in memory and says `storage: 'memory'`.
 *
 * @example
 * const persister = new Persister(new IdbTokenStore(config), { clock, onFailure: (e) => engine.storageFailed(e) });
 * persister.write({ op: 'setActiveSession', sessionId: 'sess_1' });
 * await persister.flush();
 */
export class Persister {
  readonly #clock: Clock;
  readonly #onFailure: (error: unknown) => void;
  #store: TokenStore | null;
  #chain: Promise<void> = Promise.resolve();

  constructor(store: TokenStore | null, deps: { clock: Clock; onFailure: (error: unknown) => void }) {
    this.#store = store;
    this.#clock = deps.clock;
    this.#onFailure = deps.onFailure;
  }

  get kind(): StorageKind {
    return this.#store ? 'indexeddb' : 'memory';
  }

  /** Queues one write behind every earlier one. */
  write(w: StoreWrite): void {
    const store = this.#store;
    if (!store) return;
    this.#chain = this.#chain.then(() => (this.#store === store ? apply(store, w) : undefined)).catch((error: unknown) => this.#fail(error));
  }

  /** Resolves when every write queued so far has settled. */
  flush(): Promise<void> {
    return this.#chain;
  }

  /** The active session and its stored tokens; null when there is none, or storage failed or hung. */
  async read(): Promise<StoredSession | null> {
    const store = this.#store;
    if (!store) return null;
    try {
      const active = await this.#inTime(store.getActiveSession());
      if (active === null || !SESSION_ID_PATTERN.test(active.sessionId)) return null;
      const { sessionId, userId } = active;
      const tokens = await this.#inTime(store.getTokens(sessionId));
      const lastJwt = await this.#inTime(store.getLastActiveToken(sessionId));
      return { sessionId, userId, tokens, lastJwt };
    } catch (error) {
      this.#fail(error);
      return null;
    }
  }

  #fail(error: unknown): void {
    if (!this.#store) return;
    this.#store = null;
    this.#onFailure(error);
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
}

function apply(store: TokenStore, w: StoreWrite): Promise<void> {
  switch (w.op) {
    case 'setToken':
      return store.setToken(w.key, w.token);
    case 'deleteToken':
      return store.deleteToken(w.key);
    case 'setLastActive':
      return store.setLastActiveToken(w.sessionId, w.jwt);
    case 'setActiveSession':
      return store.setActiveSession(w.session);
    case 'clearSession':
      return store.clearSession(w.sessionId);
  }
}

/**
 * The `restore` action for what storage held, at `now`: only well-formed tokens of the session with
 * time left and no more time left than their whole lifetime.
 */
export function restoreAction(stored: StoredSession, now: number, origin: Pick<TokenOrigin, 'inspect'>): Extract<Action, { type: 'restore' }> {
  const { sessionId } = stored;
  const entryOf = (jwt: string, expiresAt: number): CacheEntry | null => {
    const facts = origin.inspect(jwt, sessionId);
    return facts && Number.isFinite(expiresAt) ? { ...facts, jwt, expiresAt, staleAt: staleAt(expiresAt) } : null;
  };
  const entries: [string, CacheEntry][] = [];
  for (const [key, token] of stored.tokens) {
    if (!key.startsWith(`${sessionId}|`) || key.split('|').length !== 4) continue;
    const entry = entryOf(token.jwt, token.expiresAt);
    // An expired token is useless; one with more time left than its whole lifetime means the clock
    // was set back or the record is corrupt, and would be served past its real expiry.
    if (!entry || entry.expiresAt <= now || entry.expiresAt - now > entry.lifetimeS * 1000) continue;
    entries.push([key, entry]);
  }
  // The lastActiveToken is written after the token itself; a worker killed in between leaves only
  // the default token, which serves as well (expired or not).
  let lastActive = stored.lastJwt === null ? null : entryOf(stored.lastJwt, 0);
  const storedDefault = stored.tokens.get(defaultKeyOf(sessionId));
  const fromDefault = storedDefault ? entryOf(storedDefault.jwt, 0) : null;
  if (fromDefault && (!lastActive || isAtLeastAsFresh(fromDefault, lastActive))) lastActive = fromDefault;
  return { type: 'restore', sessionId, userId: stored.userId, entries, lastActive };
}
