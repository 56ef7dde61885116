/**
 * The freshness rules that the tab and the worker share (SPEC 4): how fresh a token is for one
 * read, where its staleness point lies, and which of two tokens for one key is fresher. The tab's
 * hot path and the engine's cache both use these, so the two sides never disagree about a token.
 */
import { MIN_LEEWAY_S } from './constants.ts';

/**
 * How a read sees a cached token:
 * - `fresh`: more than the leeway left — return it, no network;
 * - `stale`: within the leeway but above the hard cutoff — return it and refresh in the background;
 * - `hard`: at or below the hard cutoff (or expired) — the caller waits for a mint.
 */
export type Freshness = 'fresh' | 'stale' | 'hard';

/**
 * Classifies a token with `expiresAt` for a read at `now` with leeway `leewayS` (already raised to
 * 15). In an outage (`degraded`) the hard cutoff no longer applies: a token is served until its real
 * expiry, because a token with two seconds left is better than `origin_unavailable`.
 *
 * @example
 * classify(entry.expiresAt, 15, Date.now(), 5000, false) // 'fresh'
 */
export function classify(expiresAt: number, leewayS: number, now: number, hardCutoffMs: number, degraded: boolean): Freshness {
  const remaining = expiresAt - now;
  if (remaining > leewayS * 1000) return 'fresh';
  return remaining > (degraded ? 0 : hardCutoffMs) ? 'stale' : 'hard';
}

/**
 * `expiresAt − 15 s`, the staleness point every snapshot carries.
 *
 * @example
 * staleAt(60_000) // 45_000
 */
export function staleAt(expiresAt: number): number {
  return expiresAt - MIN_LEEWAY_S * 1000;
}

/** What decides which of two tokens of one key is fresher. */
export interface FreshnessStamp {
  /** The `oiat` header (original issued-at), null when the origin sent none. */
  readonly oiat: number | null;
  readonly iat: number;
}

/**
 * Whether `candidate` may replace `current`: higher `oiat` first (a token without `oiat` is staler
 * than one with it), then higher `iat`; on a full tie the newer arrival (the candidate) wins.
 *
 * Why oiat first: during an origin outage a token re-minted from an expired one keeps the expired
 * token's `oiat`, so it must never displace a token minted normally after the outage, whatever
 * their `iat`s.
 *
 * @example
 * isAtLeastAsFresh({ oiat: 10, iat: 5 }, { oiat: 9, iat: 50 }) // true
 */
export function isAtLeastAsFresh(candidate: FreshnessStamp, current: FreshnessStamp): boolean {
  if (candidate.oiat !== current.oiat) {
    if (candidate.oiat === null) return false;
    if (current.oiat === null) return true;
    return candidate.oiat > current.oiat;
  }
  return candidate.iat >= current.iat;
}
