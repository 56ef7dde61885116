/**
 * Persistence of the engine (SPEC 4): tokens by cache key, the active session id and the
 * lastActiveToken of each session. Only IndexedDB (through idb-keyval) in the browser — never
 * localStorage, sessionStorage or cookies, which every script of the page and every tab could read
 * or race on. Every method may reject; the engine then carries on in memory.
 */

/** A token as it is persisted: the `expiresAt` it was computed with is kept across reloads. */
export interface StoredToken {
  jwt: string;
  expiresAt: number;
}

/** The active session as it is persisted: a reload knows it, and its user, with no request. */
export interface ActiveSession {
  sessionId: string;
  userId: string | null;
}

/**
 * @example
 * const store: TokenStore = new MemoryTokenStore();
 * await store.setToken('sess_1|||', { jwt, expiresAt });
 * await store.getTokens('sess_1'); // Map { 'sess_1|||' => { jwt, expiresAt } }
 */
export interface TokenStore {
  /** Every stored token of one session, by cache key. */
  getTokens(sessionId: string): Promise<Map<string, StoredToken>>;
  setToken(key: string, token: StoredToken): Promise<void>;
  deleteToken(key: string): Promise<void>;
  /** The active session and its user, as last set. */
  getActiveSession(): Promise<ActiveSession | null>;
  /** null forgets the active session (signed out). */
  setActiveSession(session: ActiveSession | null): Promise<void>;
  getLastActiveToken(sessionId: string): Promise<string | null>;
  setLastActiveToken(sessionId: string, jwt: string): Promise<void>;
  /** Drops the session's tokens and its lastActiveToken. */
  clearSession(sessionId: string): Promise<void>;
}
