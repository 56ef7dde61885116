import { SESSION_ID_PATTERN } from '../protocol/constants.ts';
import type { Clock } from '../protocol/clock.ts';
import { isAtLeastAsFresh, staleAt } from '../protocol/freshness.ts';
import type { Restored } from './actions.ts';
import { defaultKeyOf, type CacheEntry } from './state.ts';
import type { TokenOrigin } from './TokenOrigin.ts';
import type { StoredSession, TokenStore } from './TokenStore.ts';

/**
 * How long the start waits for storage. IndexedDB can hang rather than fail (an open blocked by
 * another connection's upgrade); `ready` must not hang with it.
 */
export const STORE_RESTORE_TIMEOUT_MS = 3000;

/**
 * The storage runner (SPEC 4): writes run one after another in the order the transitions asked for
 * them, so a sign-out that clears the session always lands after the token writes that preceded
 * it; the restore at start gives up after 3 s. Whether storage is on is the engine's state
 * (`storage`): a failure is reported back, and the reducer asks for no more writes.
 *
 * @example
 * const persister = new Persister(new IdbTokenStore(config), clock);
 * persister.write({ op: 'setActiveSession', session: { sessionId: 'sess_1', userId: null } }, onFailure);
 * await persister.flush();
 */
export class Persister {
  readonly #store: TokenStore | null;
  readonly #clock: Clock;
  #chain: Promise<void> = Promise.resolve();

  constructor(store: TokenStore | null, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /** Queues one write behind every earlier one; `onFailure` hears it fail. */
  write(session: StoredSession | null, onFailure: (error: unknown) => void): void {
    const store = this.#store;
    if (store) this.#chain = this.#chain.then(() => store.write(session)).catch(onFailure);
  }

  /** Resolves when every write queued so far has settled. */
  flush(): Promise<void> {
    return this.#chain;
  }

  /**
   * The active session and its usable tokens, read back without network (`origin.inspect`); null
   * when there is none. Rejects when storage fails or hangs.
   */
  async read(origin: Pick<TokenOrigin, 'inspect'>): Promise<Restored | null> {
    const store = this.#store;
    if (!store) return null;
    const stored = await this.#inTime(store.read());
    return stored && SESSION_ID_PATTERN.test(stored.sessionId) ? restored(stored, this.#clock.now(), origin) : null;
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

/**
 * What storage held, at `now`: only well-formed tokens of the session with time left and no more
 * time left than their whole lifetime.
 */
export function restored(stored: StoredSession, now: number, origin: Pick<TokenOrigin, 'inspect'>): Restored {
  const { sessionId, userId, tokens, lastActive: lastJwt } = stored;
  const entryOf = (jwt: string, expiresAt: number): CacheEntry | null => {
    const facts = origin.inspect(jwt, sessionId);
    return facts && Number.isFinite(expiresAt) ? { ...facts, jwt, expiresAt, staleAt: staleAt(expiresAt) } : null;
  };
  const entries: [string, CacheEntry][] = [];
  for (const [key, token] of Object.entries(tokens)) {
    if (!key.startsWith(`${sessionId}|`) || key.split('|').length !== 4) continue;
    const entry = entryOf(token.jwt, token.expiresAt);
    // An expired token is useless; one with more time left than its whole lifetime means the clock
    // was set back or the record is corrupt, and would be served past its real expiry.
    if (!entry || entry.expiresAt <= now || entry.expiresAt - now > entry.lifetimeS * 1000) continue;
    entries.push([key, entry]);
  }
  // The lastActiveToken is written after the token itself; a worker killed in between leaves only
  // the default token, which serves as well (expired or not).
  let lastActive = lastJwt === null ? null : entryOf(lastJwt, 0);
  const storedDefault = tokens[defaultKeyOf(sessionId)];
  const fromDefault = storedDefault ? entryOf(storedDefault.jwt, 0) : null;
  if (fromDefault && (!lastActive || isAtLeastAsFresh(fromDefault, lastActive))) lastActive = fromDefault;
  return { sessionId, userId, entries, lastActive };
}
