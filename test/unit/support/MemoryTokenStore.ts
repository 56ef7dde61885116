import type { StoredSession, TokenStore } from '../../../engine/TokenStore.ts';

/**
 * A `TokenStore` in memory: for unit tests, and a model of what IndexedDB keeps. The record is
 * copied in and out so callers cannot change what is "persisted".
 *
 * @example
 * const store = new MemoryTokenStore();
 * const engine = new TokenEngine(config, { clock, origin, store });
 */
export class MemoryTokenStore implements TokenStore {
  #session: StoredSession | null = null;
  /** When set, every method rejects with it: simulates an IndexedDB that fails. */
  failWith: Error | null = null;

  async read(): Promise<StoredSession | null> {
    this.#check();
    return this.#session && structuredClone(this.#session);
  }

  async write(session: StoredSession | null): Promise<void> {
    this.#check();
    this.#session = session && structuredClone(session);
  }

  /** Everything held, for assertions. */
  dump(): {
    tokens: Record<string, { jwt: string; expiresAt: number }>;
    lastActive: Record<string, string>;
    activeSessionId: string | null;
    activeUserId: string | null;
  } {
    const s = this.#session;
    return {
      tokens: structuredClone(s?.tokens ?? {}),
      lastActive: s?.lastActive ? { [s.sessionId]: s.lastActive } : {},
      activeSessionId: s?.sessionId ?? null,
      activeUserId: s?.userId ?? null,
    };
  }

  #check(): void {
    if (this.failWith) throw this.failWith;
  }
}
