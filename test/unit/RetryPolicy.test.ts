import { describe, expect, it } from 'vitest';
import { BACKOFF_CAP_MS, RETRY_AFTER_MAX_MS } from '../../protocol/constants.ts';
import { RetryPolicy } from '../../engine/RetryPolicy.ts';
import { parseRetryAfter } from '../../origins/HttpClient.ts';

describe('RetryPolicy', () => {
  it('backoff delays follow full jitter within bounds: random · min(30 s, 1 s · 2^attempt)', () => {
    const ceilings = [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000];
    ceilings.forEach((ceiling, attempt) => {
      expect(RetryPolicy.ceilingMs(attempt)).toBe(ceiling);
      expect(new RetryPolicy(() => 0).delayMs(attempt, null)).toBe(0);
      expect(new RetryPolicy(() => 0.5).delayMs(attempt, null)).toBe(ceiling / 2);
      const top = new RetryPolicy(() => 0.999999).delayMs(attempt, null);
      expect(top).toBeLessThan(ceiling);
      expect(top).toBeGreaterThan(ceiling * 0.99);
    });
    const policy = new RetryPolicy(Math.random);
    for (let i = 0; i < 2000; i++) {
      const attempt = i % 12;
      const d = policy.delayMs(attempt, null);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(Math.min(BACKOFF_CAP_MS, 1000 * 2 ** attempt));
    }
    expect(RetryPolicy.ceilingMs(10_000)).toBe(BACKOFF_CAP_MS);
  });

  it('a Retry-After is a floor honoured up to five minutes', () => {
    const policy = new RetryPolicy(() => 0.5);
    expect(policy.delayMs(0, 7)).toBe(7000);
    expect(policy.delayMs(6, 2)).toBe(15000); // the jitter is longer than the header asks
    expect(policy.delayMs(0, 3600)).toBe(RETRY_AFTER_MAX_MS);
  });

  it('parses Retry-After as seconds or as an HTTP date against the origin clock', () => {
    const originNow = Date.UTC(2020, 5, 1, 10, 0, 0);
    expect(parseRetryAfter('12', originNow)).toBe(12);
    expect(parseRetryAfter(new Date(originNow + 9000).toUTCString(), originNow)).toBe(9);
    expect(parseRetryAfter(new Date(originNow - 9000).toUTCString(), originNow)).toBe(0);
    expect(parseRetryAfter('soon', originNow)).toBeNull();
    expect(parseRetryAfter(null, originNow)).toBeNull();
  });
});
