import { createStore, del, delMany, entries, get, keys, set, type UseStore } from 'idb-keyval';
import { workerKey } from '../protocol/names.ts';
import type { EngineConfig } from '../protocol/types.ts';

/** A token as it is persisted (the engine's `StoredToken`). */
interface StoredToken {
  jwt: string;
  expiresAt: number;
}

/** The active session as it is persisted (the engine's `ActiveSession`). */
interface ActiveSession {
  sessionId: string;
  userId: string | null;
}

/** Key prefixes inside one store; a cache key never starts with these because session ids have no `:`. */
export const STORE_KEYS = {
  token: (key: string) => `token:${key}`,
  lastActive: (sessionId: string) => `last:${sessionId}`,
  activeSession: 'session:active',
} as const;

/**
 * The browser `TokenStore`: one idb-keyval store per manager configuration, in a database named
 * after the worker key, like the worker and the channel (`tabtoken:v1:{namespace}:{origin}`), with one object store
 * `tokens`, so two namespaces or two origins never see each other's tokens.
 *
 * @example
 * const store = new IdbTokenStore({ namespace: '', frontendApi: 'https://app.example.com' });
 */
export class IdbTokenStore {
  readonly #dbName: string;
  #store: UseStore | null = null;

  constructor(config: Pick<EngineConfig, 'namespace' | 'frontendApi' | 'oidc'>) {
    this.#dbName = workerKey(config);
  }

  /**
   * Opened on first use and inside an async method, so a missing `indexedDB` (some private modes,
   * some workers) becomes a rejection the engine can catch rather than a synchronous throw.
   */
  #use(): UseStore {
    this.#store ??= createStore(this.#dbName, 'tokens');
    return this.#store;
  }

  async getTokens(sessionId: string): Promise<Map<string, StoredToken>> {
    const prefix = STORE_KEYS.token(`${sessionId}|`);
    const out = new Map<string, StoredToken>();
    // One read transaction for the whole restore: a reload must reach its first token quickly.
    for (const [k, value] of await entries<IDBValidKey, unknown>(this.#use())) {
      if (typeof k === 'string' && k.startsWith(prefix) && isStoredToken(value)) out.set(k.slice('token:'.length), { jwt: value.jwt, expiresAt: value.expiresAt });
    }
    return out;
  }

  async setToken(key: string, token: StoredToken): Promise<void> {
    await set(STORE_KEYS.token(key), { jwt: token.jwt, expiresAt: token.expiresAt }, this.#use());
  }

  async deleteToken(key: string): Promise<void> {
    await del(STORE_KEYS.token(key), this.#use());
  }

  async getActiveSession(): Promise<ActiveSession | null> {
    const value = (await get(STORE_KEYS.activeSession, this.#use())) as Partial<ActiveSession> | undefined;
    return typeof value?.sessionId === 'string' ? { sessionId: value.sessionId, userId: typeof value.userId === 'string' ? value.userId : null } : null;
  }

  async setActiveSession(session: ActiveSession | null): Promise<void> {
    if (session === null) await del(STORE_KEYS.activeSession, this.#use());
    else await set(STORE_KEYS.activeSession, { sessionId: session.sessionId, userId: session.userId }, this.#use());
  }

  async getLastActiveToken(sessionId: string): Promise<string | null> {
    const value: unknown = await get(STORE_KEYS.lastActive(sessionId), this.#use());
    return typeof value === 'string' ? value : null;
  }

  async setLastActiveToken(sessionId: string, jwt: string): Promise<void> {
    await set(STORE_KEYS.lastActive(sessionId), jwt, this.#use());
  }

  async clearSession(sessionId: string): Promise<void> {
    const store = this.#use();
    const prefix = STORE_KEYS.token(`${sessionId}|`);
    const doomed = (await keys(store)).filter((k) => typeof k === 'string' && k.startsWith(prefix));
    await delMany([...doomed, STORE_KEYS.lastActive(sessionId)], store);
  }
}

function isStoredToken(value: unknown): value is StoredToken {
  if (typeof value !== 'object' || value === null) return false;
  const { jwt, expiresAt } = value as Record<string, unknown>;
  return typeof jwt === 'string' && typeof expiresAt === 'number' && Number.isFinite(expiresAt);
}
