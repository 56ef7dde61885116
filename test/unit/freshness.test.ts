import { describe, expect, it } from 'vitest';
import { classify, staleAt } from '../../protocol/freshness.ts';
import { initialState, type CacheEntry, type EngineState } from '../../engine/engineState.ts';
import { reduce } from '../../engine/reduce.ts';

function entry(jwt: string, oiat: number | null, iat: number, expiresAt = 100_000): CacheEntry {
  return { jwt, expiresAt, staleAt: staleAt(expiresAt), oiat, iat, lifetimeS: 60, claims: null };
}

/** A cache of one key, fed through the engine's own transition. */
function cacheOf() {
  let state: EngineState = reduce(initialState('memory', 0), { type: 'session', sessionId: 's', userId: null }, 0).state;
  return {
    offer(e: CacheEntry): boolean {
      const before = state.tokens.get('s|||');
      state = reduce(state, { type: 'token', key: 's|||', entry: e, epoch: state.epoch }, 0).state;
      return state.tokens.get('s|||') !== before;
    },
    get: () => state.tokens.get('s|||'),
  };
}

describe('freshness', () => {
  it('a staler token (lower oiat, then lower iat, then no oiat) never replaces a fresher one; a full tie goes to the newer arrival', () => {
    const cache = cacheOf();
    expect(cache.offer(entry('a', 100, 100))).toBe(true);
    expect(cache.offer(entry('lower-oiat', 90, 500))).toBe(false);
    expect(cache.offer(entry('lower-iat', 100, 99))).toBe(false);
    expect(cache.offer(entry('no-oiat', null, 900))).toBe(false);
    expect(cache.get()?.jwt).toBe('a');
    expect(cache.offer(entry('tie', 100, 100))).toBe(true);
    expect(cache.get()?.jwt).toBe('tie');
    expect(cache.offer(entry('higher-iat', 100, 101))).toBe(true);
    expect(cache.offer(entry('higher-oiat', 101, 50))).toBe(true);
    expect(cache.get()?.jwt).toBe('higher-oiat');
    const bare = cacheOf();
    bare.offer(entry('none', null, 100));
    expect(bare.offer(entry('with-oiat', 1, 1))).toBe(true);
  });

  it('classifies remaining time: fresh above the leeway, stale down to the hard cutoff, hard below; degraded serves until expiry', () => {
    const now = 1_000_000;
    const at = (remainingMs: number, degraded = false) => classify(now + remainingMs, 15, now, 5000, degraded);
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
