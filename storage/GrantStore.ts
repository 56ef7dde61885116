import { createStore, del, delMany, entries, get, set, type UseStore } from 'idb-keyval';

/**
 * Where the grant, the provider's discovery document and the pending sign-ins are kept: IndexedDB
 * (idb-keyval, a database named after the worker key) — the grant and the document only with
 * `persist`, otherwise in this worker's memory; pending sign-ins always, because the only tab (or
 * the leader) unloads when it goes to the provider, and with it every worker's memory.
 *
 * @example
 * const store = new GrantStore(`${workerKey(config)}:oidc`, config.persist);
 * await store.setGrant(grant);
 */
export class GrantStore<Grant, SignIn extends { state: string; createdAt: number }> {
  readonly #name: string;
  readonly #persist: boolean;
  readonly #memory = new Map<string, unknown>();
  #idb: UseStore | null = null;
  /** IndexedDB failed once: from then on everything is kept in memory (as the token store does). */
  #broken = false;

  constructor(dbName: string, persist: boolean) {
    this.#name = dbName;
    this.#persist = persist;
  }

  getGrant(): Promise<Grant | null> {
    return this.#get<Grant>('grant', this.#persist);
  }

  setGrant(grant: Grant): Promise<void> {
    return this.#set('grant', grant, this.#persist);
  }

  deleteGrant(): Promise<void> {
    return this.#del('grant', this.#persist);
  }

  getDiscovery(): Promise<Record<string, unknown> | null> {
    return this.#get('discovery', this.#persist);
  }

  setDiscovery(document: Record<string, unknown>): Promise<void> {
    return this.#set('discovery', document, this.#persist);
  }

  /** Keeps a new sign-in and forgets those started before `expiredBefore`. */
  async putSignIn(request: SignIn, expiredBefore: number): Promise<void> {
    const old: string[] = [];
    try {
      for (const [key, value] of await entries<IDBValidKey, SignIn>(this.#use())) {
        if (typeof key === 'string' && key.startsWith('signin:') && !(value?.createdAt >= expiredBefore)) old.push(key);
      }
      if (old.length > 0) await delMany(old, this.#use());
    } catch {
      // Sweeping is housekeeping: a failure here must not stop the sign-in.
    }
    await this.#set(`signin:${request.state}`, request, true);
  }

  /** The sign-in of `state`, used up: a second call for the same state finds nothing. */
  async takeSignIn(state: string): Promise<SignIn | null> {
    const request = await this.#get<SignIn>(`signin:${state}`, true);
    await this.#del(`signin:${state}`, true);
    return request;
  }

  #use(): UseStore {
    this.#idb ??= createStore(this.#name, 'grant');
    return this.#idb;
  }

  async #get<T>(key: string, durable: boolean): Promise<T | null> {
    if (durable && !this.#broken) {
      try {
        return ((await get<T>(key, this.#use())) as T | undefined) ?? null;
      } catch {
        this.#broken = true;
      }
    }
    return (this.#memory.get(key) as T | undefined) ?? null;
  }

  async #set(key: string, value: unknown, durable: boolean): Promise<void> {
    this.#memory.set(key, value);
    if (durable && !this.#broken) await set(key, value, this.#use()).catch(() => void (this.#broken = true));
  }

  async #del(key: string, durable: boolean): Promise<void> {
    this.#memory.delete(key);
    if (durable && !this.#broken) await del(key, this.#use()).catch(() => void (this.#broken = true));
  }
}
