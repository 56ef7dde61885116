/**
 * The app sessions' memory on a clock the test moves: the exact edges of the reuse interval, which
 * the HTTP tests (appSession.test.ts) can only approach with real time passing between calls.
 */
import { describe, expect, it } from 'vitest';
import { AppSessions, type RefreshOutcome } from '../../origin/AppSessions.ts';

function setUp(intervalSeconds: number) {
  let now = 1_000_000;
  const app = new AppSessions(() => now);
  app.refreshReuseIntervalSeconds = intervalSeconds;
  const { cookie: first } = app.login('alice');
  const rotated = app.refresh(first);
  if (rotated.kind !== 'rotated') throw new Error(`expected a rotation, got ${rotated.kind}`);
  return { app, first, live: rotated.cookie, at: (ms: number) => (now = ms), rotatedAt: now };
}

const kind = (outcome: RefreshOutcome): string => outcome.kind;

describe('the reuse interval', () => {
  it('answers a rotated cookie up to the last millisecond of the interval, and sees reuse from its end on', () => {
    const graced = setUp(10);
    graced.at(graced.rotatedAt + 9_999);
    expect(graced.app.refresh(graced.first)).toEqual({ kind: 'grace', family: expect.objectContaining({ userId: 'alice' }), cookie: graced.live });

    const reused = setUp(10);
    reused.at(reused.rotatedAt + 10_000);
    expect(kind(reused.app.refresh(reused.first))).toBe('reused');
    expect(kind(reused.app.refresh(reused.live))).toBe('ended');
  });

  it('is no grace at all at 0, even in the millisecond of the rotation', () => {
    const s = setUp(0);
    expect(kind(s.app.refresh(s.first))).toBe('reused');
  });

  it('counts a time before the rotation (a reset moved the clock back) as outside the interval', () => {
    const s = setUp(10);
    s.at(s.rotatedAt - 1);
    expect(kind(s.app.refresh(s.first))).toBe('reused');
  });

  it('hands out the live cookie in grace, so a grace answer never retires the cookie another answer carried', () => {
    const s = setUp(10);
    const graced = s.app.refresh(s.first);
    expect(graced).toMatchObject({ kind: 'grace', cookie: s.live });
    expect(kind(s.app.refresh(s.live))).toBe('rotated');
  });
});

describe('revocation', () => {
  it('ends the family for every cookie it handed out, counting it once', () => {
    const s = setUp(0);
    expect(s.app.logout(s.first)?.status).toBe('revoked');
    expect(kind(s.app.refresh(s.live))).toBe('ended');
    expect(kind(s.app.refresh(s.first))).toBe('ended');
    expect(s.app.logout(s.live)?.status).toBe('revoked');
    expect(s.app.stats()).toEqual({ tokens: 0, reuses: 0, families: 1, revoked: 1 });
  });

  it('knows nothing of a cookie it never handed out, or of none', () => {
    const s = setUp(0);
    expect(kind(s.app.refresh('nope'))).toBe('unknown');
    expect(kind(s.app.refresh(null))).toBe('unknown');
    expect(s.app.logout('nope')).toBeNull();
  });
});
