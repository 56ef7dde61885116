import { describe, expect, it } from 'vitest';
import { BACKOFF_CAP_MS, RETRY_AFTER_MAX_MS } from '../../protocol/constants.ts';
import { ceilingMs, delayMs } from '../../engine/backoff.ts';
import { parseRetryAfter } from '../../origins/HttpClient.ts';

describe('backoff', () => {
  it('backoff delays follow full jitter within bounds: random · min(30 s, 1 s · 2^attempt)', () => {
    const ceilings = [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000];
    ceilings.forEach((ceiling, attempt) => {
      expect(ceilingMs(attempt)).toBe(ceiling);
      expect(delayMs(attempt, null, 0)).toBe(0);
      expect(delayMs(attempt, null, 0.5)).toBe(ceiling / 2);
      const top = delayMs(attempt, null, 0.999999);
      expect(top).toBeLessThan(ceiling);
      expect(top).toBeGreaterThan(ceiling * 0.99);
    });
    for (let i = 0; i < 2000; i++) {
      const attempt = i % 12;
      const d = delayMs(attempt, null, Math.random());
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(Math.min(BACKOFF_CAP_MS, 1000 * 2 ** attempt));
    }
    expect(ceilingMs(10_000)).toBe(BACKOFF_CAP_MS);
  });

  it('a Retry-After is a floor honoured up to five minutes', () => {
    expect(delayMs(0, 7, 0.5)).toBe(7000);
    expect(delayMs(6, 2, 0.5)).toBe(15000); // the jitter is longer than the header asks
    expect(delayMs(0, 3600, 0.5)).toBe(RETRY_AFTER_MAX_MS);
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
