import { createStore, del, delMany, entries, get, promisifyRequest, set, type UseStore } from 'idb-keyval';

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
export class GrantStore<Grant, SignIn extends { state: string; createdAt: number }, Discovery = Record<string, unknown>> {
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

  getDiscovery(): Promise<Discovery | null> {
    return this.#get<Discovery>('discovery', this.#persist);
  }

  setDiscovery(discovery: Discovery): Promise<void> {
    return this.#set('discovery', discovery, this.#persist);
  }

  deleteDiscovery(): Promise<void> {
    return this.#del('discovery', this.#persist);
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

  /**
   * The sign-in of `state`, used up: read and deleted in one readwrite transaction, so of two
   * concurrent calls for one state exactly one gets it. With a read and a delete in two
   * transactions, both could read it before either deleted it, and the code be redeemed twice
   * (which makes a provider that detects a reused code revoke the grant):
   *
   *   call A   get ──────────▶ found ── delete ── redeem code ──▶ 200
   *   call B       get ──────▶ found ── delete ── redeem code ──▶ invalid_grant, grant revoked
   *
   * IndexedDB runs readwrite transactions on one store one after the other, so here B's
   * transaction starts after A's has committed its delete, and finds nothing.
   */
  async takeSignIn(state: string): Promise<SignIn | null> {
    const key = `signin:${state}`;
    const remembered = (this.#memory.get(key) as SignIn | undefined) ?? null;
    this.#memory.delete(key);
    if (!this.#broken) {
      try {
        return await this.#use()('readwrite', async (store) => {
          // Both requests are placed before anything is awaited: the transaction cannot end between them.
          const read = store.get(key) as IDBRequest<SignIn | undefined>;
          store.delete(key);
          const [found] = await Promise.all([promisifyRequest(read), promisifyRequest(store.transaction)]);
          return found ?? null;
        });
      } catch {
        this.#broken = true;
      }
    }
    // In memory a read and a delete with no await between them are one step.
    return remembered;
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
    if (durable && !this.#broken)
      await set(key, value, this.#use()).catch(() => {
        this.#broken = true;
      });
  }

  async #del(key: string, durable: boolean): Promise<void> {
    this.#memory.delete(key);
    if (durable && !this.#broken)
      await del(key, this.#use()).catch(() => {
        this.#broken = true;
      });
  }
}
