import { describe, expect, it } from 'vitest';
import { classify } from '../../protocol/freshness.ts';
import type { EngineState } from '../../engine/state.ts';
import type { MintedToken } from '../../engine/TokenOrigin.ts';
import { newState, offer, run } from './support/reducer.ts';

function entry(jwt: string, oiat: number | null, iat: number, expiresAt = 100_000): MintedToken {
  return { jwt, expiresAt, oiat, iat, lifetimeS: 60, claims: null };
}

/** A cache of one key, fed through the engine's own transitions (a mint answering). */
function cacheOf() {
  let state: EngineState = run(newState(), [{ type: 'use', sessionId: 's' }]).state;
  return {
    offer(e: MintedToken): boolean {
      const before = state.tokens.get('s|||');
      state = offer(state, e);
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
