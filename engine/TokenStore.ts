/**
 * Persistence of the engine (SPEC 4): the active session, its tokens and its lastActiveToken, as
 * one record written whole after every change of them, so what is stored is always a state the
 * engine was in. Only IndexedDB (through idb-keyval) in the browser — never localStorage,
 * sessionStorage or cookies, which every script of the page and every tab could read or race on.
 * Every method may reject; the engine then carries on in memory.
 */

/** A token as it is persisted: the `expiresAt` it was computed with is kept across reloads. */
export interface StoredToken {
  jwt: string;
  expiresAt: number;
}

/** What a reload needs to reach its first token with no request. */
export interface StoredSession {
  sessionId: string;
  userId: string | null;
  /** By cache key; only tokens whose whole lifetime is at most an hour. */
  tokens: Record<string, StoredToken>;
  /** The freshest default token of the session, expired or not (the outage re-mint sends it). */
  lastActive: string | null;
}

/**
 * @example
 * const store: TokenStore = new MemoryTokenStore();
 * await store.write({ sessionId: 'sess_1', userId: null, tokens: { 'sess_1|||': { jwt, expiresAt } }, lastActive: jwt });
 * await store.read(); // the same record
 */
export interface TokenStore {
  read(): Promise<StoredSession | null>;
  /** null: signed out, nothing is kept. */
  write(session: StoredSession | null): Promise<void>;
}
