import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import { workerKey } from '../protocol/names.ts';
import { isRecord } from '../protocol/errors.ts';
import type { EngineConfig } from '../protocol/types.ts';

/** The record as it is kept (the engine's `StoredSession`). */
interface StoredSession {
  sessionId: string;
  userId: string | null;
  tokens: Record<string, { jwt: string; expiresAt: number }>;
  lastActive: string | null;
}

/** The one key of the store: the session record, replaced whole at every change. */
const KEY = 'session';

/**
 * The browser's token store: one idb-keyval store per manager configuration, in a database named
 * after the worker key (`tabtoken:v1:{namespace}:{origin}`), with one object store `tokens`, so two
 * namespaces or two origins never see each other's tokens.
 *
 * @example
 * const store = new IdbTokenStore({ namespace: '', frontendApi: 'https://app.example.com', oidc: null, endpoint: null });
 */
export class IdbTokenStore {
  readonly #dbName: string;
  #store: UseStore | null = null;

  constructor(config: Pick<EngineConfig, 'namespace' | 'frontendApi' | 'oidc' | 'endpoint'>) {
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

  /** The record, when it has the shape this code writes (anything else is as good as none). */
  async read(): Promise<StoredSession | null> {
    const value: unknown = await get(KEY, this.#use());
    if (!isRecord(value) || typeof value.sessionId !== 'string' || !isRecord(value.tokens)) return null;
    const tokens: StoredSession['tokens'] = {};
    for (const [key, t] of Object.entries(value.tokens))
      if (isRecord(t) && typeof t.jwt === 'string' && Number.isFinite(t.expiresAt)) tokens[key] = { jwt: t.jwt, expiresAt: t.expiresAt as number };
    return {
      sessionId: value.sessionId,
      userId: typeof value.userId === 'string' ? value.userId : null,
      tokens,
      lastActive: typeof value.lastActive === 'string' ? value.lastActive : null,
    };
  }

  async write(session: StoredSession | null): Promise<void> {
    await (session ? set(KEY, session, this.#use()) : del(KEY, this.#use()));
  }
}
