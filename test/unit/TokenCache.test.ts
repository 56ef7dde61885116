import { describe, expect, it } from 'vitest';
import { TokenCache, type CacheEntry } from '../../worker/TokenCache.ts';

function entry(jwt: string, oiat: number | null, iat: number, expiresAt = 100_000): CacheEntry {
  return { jwt, expiresAt, staleAt: TokenCache.staleAt(expiresAt), oiat, iat, lifetimeS: 60 };
}

describe('TokenCache', () => {
  it('a staler token (lower oiat, then lower iat, then no oiat) never replaces a fresher one; a full tie goes to the newer arrival', () => {
    const cache = new TokenCache();
    expect(cache.offer('k', entry('a', 100, 100))).toBe(true);
    expect(cache.offer('k', entry('lower-oiat', 90, 500))).toBe(false);
    expect(cache.offer('k', entry('lower-iat', 100, 99))).toBe(false);
    expect(cache.offer('k', entry('no-oiat', null, 900))).toBe(false);
    expect(cache.get('k')?.jwt).toBe('a');
    expect(cache.offer('k', entry('tie', 100, 100))).toBe(true);
    expect(cache.get('k')?.jwt).toBe('tie');
    expect(cache.offer('k', entry('higher-iat', 100, 101))).toBe(true);
    expect(cache.offer('k', entry('higher-oiat', 101, 50))).toBe(true);
    expect(cache.get('k')?.jwt).toBe('higher-oiat');
    const bare = new TokenCache();
    bare.offer('k', entry('none', null, 100));
    expect(bare.offer('k', entry('with-oiat', 1, 1))).toBe(true);
  });

  it('classifies remaining time: fresh above the leeway, stale down to the hard cutoff, hard below; degraded serves until expiry', () => {
    const now = 1_000_000;
    const at = (remainingMs: number, degraded = false) =>
      TokenCache.classify({ expiresAt: now + remainingMs }, { leewayS: 15, now, hardCutoffMs: 5000, degraded });
    expect(at(15_001)).toBe('fresh');
    expect(at(15_000)).toBe('stale');
    expect(at(5_001)).toBe('stale');
    expect(at(5_000)).toBe('hard');
    expect(at(1_000)).toBe('hard');
    expect(at(1_000, true)).toBe('stale');
    expect(at(0, true)).toBe('hard');
    expect(at(-5, true)).toBe('hard');
  });
});
