import type { ActiveSession, StoredToken, TokenStore } from '../../../engine/TokenStore.ts';

/**
 * A `TokenStore` in a Map: for unit tests, and a model of what IndexedDB keeps. Values are copied
 * in and out so callers cannot mutate what is "persisted".
 *
 * @example
 * const store = new MemoryTokenStore();
 * const engine = new TokenEngine(config, { clock, fetch, store });
 */
export class MemoryTokenStore implements TokenStore {
  readonly #tokens = new Map<string, StoredToken>();
  readonly #lastActive = new Map<string, string>();
  #active: ActiveSession | null = null;
  /** When set, every method rejects with it: simulates an IndexedDB that fails. */
  failWith: Error | null = null;

  async getTokens(sessionId: string): Promise<Map<string, StoredToken>> {
    this.#check();
    const out = new Map<string, StoredToken>();
    for (const [key, token] of this.#tokens) if (key.startsWith(`${sessionId}|`)) out.set(key, { ...token });
    return out;
  }

  async setToken(key: string, token: StoredToken): Promise<void> {
    this.#check();
    this.#tokens.set(key, { jwt: token.jwt, expiresAt: token.expiresAt });
  }

  async deleteToken(key: string): Promise<void> {
    this.#check();
    this.#tokens.delete(key);
  }

  async getActiveSession(): Promise<ActiveSession | null> {
    this.#check();
    return this.#active && { ...this.#active };
  }

  async setActiveSession(session: ActiveSession | null): Promise<void> {
    this.#check();
    this.#active = session && { sessionId: session.sessionId, userId: session.userId };
  }

  async getLastActiveToken(sessionId: string): Promise<string | null> {
    this.#check();
    return this.#lastActive.get(sessionId) ?? null;
  }

  async setLastActiveToken(sessionId: string, jwt: string): Promise<void> {
    this.#check();
    this.#lastActive.set(sessionId, jwt);
  }

  async clearSession(sessionId: string): Promise<void> {
    this.#check();
    for (const key of [...this.#tokens.keys()]) if (key.startsWith(`${sessionId}|`)) this.#tokens.delete(key);
    this.#lastActive.delete(sessionId);
  }

  /** Everything held, for assertions. */
  dump(): { tokens: Record<string, StoredToken>; lastActive: Record<string, string>; activeSessionId: string | null; activeUserId: string | null } {
    return {
      tokens: Object.fromEntries([...this.#tokens].map(([k, v]) => [k, { ...v }])),
      lastActive: Object.fromEntries(this.#lastActive),
      activeSessionId: this.#active?.sessionId ?? null,
      activeUserId: this.#active?.userId ?? null,
    };
  }

  #check(): void {
    if (this.failWith) throw this.failWith;
  }
}
