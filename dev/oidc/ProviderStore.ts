/**
 * The provider's storage: an in-memory adapter for oidc-provider, one per provider instance (its
 * built-in one keeps a single store for the whole process), that a test can also read from
 * outside — above all a grant's current refresh token, to replay an old one or present the
 * newest one the way a second client would.
 */
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  /** ms since the epoch; Infinity when the model gave no lifetime. */
  expiresAt: number;
}

/** One refresh token of a grant, as the provider stored it. */
export interface StoredRefreshToken {
  /** The token string a client presents (opaque tokens: their `jti`). */
  value: string;
  grantId: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number | null;
  /** Set once a rotation consumed it (seconds since the epoch); a consumed token presented again revokes the grant. */
  consumed: number | null;
  /** How many rotations led to this token (0 for the one the code grant issued). */
  rotations: number;
  /** JWK thumbprint of the DPoP key it is bound to, when it is. */
  jkt: string | null;
}

/** Models whose entries belong to a grant and go when the grant is revoked. */
const GRANT_MEMBERS = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/**
 * In-memory storage for one oidc-provider instance. Pass {@link ProviderStore.adapter} as the
 * provider's `adapter`.
 *
 * @example
 * const store = new ProviderStore();
 * const provider = new Provider(issuer, { adapter: store.adapter, ... });
 * // later, in a test:
 * const current = store.currentRefreshToken(grantId);
 */
export class ProviderStore {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The adapter factory oidc-provider calls once per model name. */
  readonly adapter: AdapterFactory = (model: string): Adapter => {
    const key = (id: string): string => `${model}:${id}`;
    return {
      upsert: async (id, payload, expiresIn) => {
        const expiresAt = typeof expiresIn === 'number' ? this.#now() + expiresIn * 1000 : Infinity;
        this.#entries.set(key(id), { payload: structuredClone(payload), expiresAt });
      },
      find: async (id) => this.#find(key(id)),
      findByUid: async (uid) => this.#findWhere(model, (p) => p.uid === uid),
      findByUserCode: async (userCode) => this.#findWhere(model, (p) => p.userCode === userCode),
      consume: async (id) => {
        const entry = this.#live(key(id));
        if (entry) entry.payload.consumed = Math.floor(this.#now() / 1000);
      },
      destroy: async (id) => {
        this.#entries.delete(key(id));
      },
      revokeByGrantId: async (grantId) => {
        for (const [k, entry] of this.#entries) {
          if (k.startsWith(`${model}:`) && entry.payload.grantId === grantId) this.#entries.delete(k);
        }
      },
    };
  };

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #find(key: string): AdapterPayload | undefined {
    const entry = this.#live(key);
    return entry ? structuredClone(entry.payload) : undefined;
  }

  #findWhere(model: string, match: (payload: AdapterPayload) => boolean): AdapterPayload | undefined {
    for (const k of [...this.#entries.keys()]) {
      if (!k.startsWith(`${model}:`)) continue;
      const entry = this.#live(k);
      if (entry && match(entry.payload)) return structuredClone(entry.payload);
    }
    return undefined;
  }

  #members(model: string, grantId: string): AdapterPayload[] {
    const out: AdapterPayload[] = [];
    for (const k of [...this.#entries.keys()]) {
      if (!k.startsWith(`${model}:`)) continue;
      const entry = this.#live(k);
      if (entry && entry.payload.grantId === grantId) out.push(entry.payload);
    }
    return out;
  }

  /**
   * The refresh tokens of a grant that the provider still holds, oldest first (revoking a grant
   * deletes them all; a consumed one stays until it expires, so its reuse can be detected).
   */
  refreshTokens(grantId: string): StoredRefreshToken[] {
    return this.#members('RefreshToken', grantId)
      .map((p) => ({
        value: String(p.jti),
        grantId,
        iat: p.iat ?? 0,
        exp: p.exp ?? null,
        consumed: typeof p.consumed === 'number' ? p.consumed : null,
        rotations: p.rotations ?? 0,
        jkt: p.jkt ?? null,
      }))
      .sort((a, b) => a.rotations - b.rotations || a.iat - b.iat);
  }

  /** The grant's refresh token that a client may use now (the newest unconsumed one), or null. */
  currentRefreshToken(grantId: string): string | null {
    const live = this.refreshTokens(grantId).filter((t) => t.consumed === null);
    return live.at(-1)?.value ?? null;
  }

  /** Whether the provider still has the grant (a revoked grant is deleted). */
  hasGrant(grantId: string): boolean {
    return this.#live(`Grant:${grantId}`) !== undefined;
  }

  /** Ids of the grants the provider holds now. */
  grantIds(): string[] {
    const out: string[] = [];
    for (const k of [...this.#entries.keys()]) {
      if (k.startsWith('Grant:') && this.#live(k)) out.push(k.slice('Grant:'.length));
    }
    return out;
  }

  /** How many entries of each grant-bound model the grant has (access tokens, codes, refresh tokens). */
  grantMembers(grantId: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const model of GRANT_MEMBERS) {
      const n = this.#members(model, grantId).length;
      if (n > 0) out[model] = n;
    }
    return out;
  }
}
