import { MIN_LEEWAY_S } from '../protocol/constants.ts';

/** One cached token. Times are milliseconds on this machine's clock; `iat`/`oiat` are the origin's seconds. */
export interface CacheEntry {
  readonly jwt: string;
  /** `receivedAt + (exp − originNow)·1000` (SPEC 3), or the value it was persisted with. */
  readonly expiresAt: number;
  /** `expiresAt − MIN_LEEWAY_S·1000`: what tabs mirror as the default staleness point. */
  readonly staleAt: number;
  /** The `oiat` header (original issued-at), null when the origin sent none. */
  readonly oiat: number | null;
  readonly iat: number;
  /** `exp − iat`: decides whether the token may be persisted. */
  readonly lifetimeS: number;
}

/**
 * How a read sees a cached token (SPEC 4):
 * - `fresh`: more than the leeway left — return it, no network;
 * - `stale`: within the leeway but above the hard cutoff — return it and refresh in the background;
 * - `hard`: at or below the hard cutoff (or expired) — the caller waits for a mint.
 */
export type Freshness = 'fresh' | 'stale' | 'hard';

export interface ClassifyOptions {
  /** Leeway of the read in seconds, already raised to at least 15. */
  leewayS: number;
  now: number;
  /** One poll interval. */
  hardCutoffMs: number;
  /**
   * In an outage the hard cutoff no longer applies: a token is served until its real expiry,
   * because a token with two seconds left is better than `origin_unavailable`.
   */
  degraded: boolean;
}

/**
 * The per-key token map and its two rules: which of two tokens is fresher, and how fresh a token is
 * for a read. It holds no timers and publishes nothing; the engine's reducer is its only writer.
 *
 * @example
 * const cache = new TokenCache();
 * cache.offer('sess_1|||', entry); // true: stored
 * cache.classify(cache.get('sess_1|||')!, { leewayS: 15, now, hardCutoffMs: 5000, degraded: false });
 */
export class TokenCache {
  readonly #entries = new Map<string, CacheEntry>();

  /** `expiresAt − 15 s`, the staleness point every snapshot carries. */
  static staleAt(expiresAt: number): number {
    return expiresAt - MIN_LEEWAY_S * 1000;
  }

  /**
   * Whether `candidate` may replace `current`: higher `oiat` first (a token without `oiat` is staler
   * than one with it), then higher `iat`; on a full tie the newer arrival (the candidate) wins.
   *
   * Why oiat first: during an origin outage a token re-minted from an expired one keeps the expired
   * token's `oiat`, so it must never displace a token minted normally after the outage, whatever
   * their `iat`s.
   */
  static isAtLeastAsFresh(candidate: Pick<CacheEntry, 'oiat' | 'iat'>, current: Pick<CacheEntry, 'oiat' | 'iat'>): boolean {
    if (candidate.oiat !== current.oiat) {
      if (candidate.oiat === null) return false;
      if (current.oiat === null) return true;
      return candidate.oiat > current.oiat;
    }
    return candidate.iat >= current.iat;
  }

  get(key: string): CacheEntry | undefined {
    return this.#entries.get(key);
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  keys(): string[] {
    return [...this.#entries.keys()];
  }

  entries(): [string, CacheEntry][] {
    return [...this.#entries.entries()];
  }

  /** Stores `entry` if it is at least as fresh as the cached one; returns whether it did. */
  offer(key: string, entry: CacheEntry): boolean {
    const current = this.#entries.get(key);
    if (current && !TokenCache.isAtLeastAsFresh(entry, current)) return false;
    this.#entries.set(key, entry);
    return true;
  }

  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  /** Keys of one session (keys start with `${sessionId}|`). */
  keysOf(sessionId: string): string[] {
    const prefix = `${sessionId}|`;
    return this.keys().filter((key) => key.startsWith(prefix));
  }

  /** Classifies a token for one read; see `Freshness`. */
  static classify(entry: Pick<CacheEntry, 'expiresAt'>, o: ClassifyOptions): Freshness {
    const remaining = entry.expiresAt - o.now;
    if (remaining > o.leewayS * 1000) return 'fresh';
    const cutoff = o.degraded ? 0 : o.hardCutoffMs;
    return remaining > cutoff ? 'stale' : 'hard';
  }
}
