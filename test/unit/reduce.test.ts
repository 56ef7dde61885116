/**
 * The reducer as a list of actions and the effects expected: no timers, no network, no promises.
 */
import { describe, expect, it } from 'vitest';
import { TokenInvalidError } from '../../protocol/errors.ts';
import type { Effect } from '../../engine/actions.ts';
import { reduce } from '../../engine/reduce.ts';
import type { MintedToken } from '../../engine/TokenOrigin.ts';
import { TokenEngine } from '../../engine/TokenEngine.ts';
import { engineConfig } from './support/engine.ts';
import { FakeClock } from './support/FakeClock.ts';
import { mintsOf, newState, request, run } from './support/reducer.ts';

const token = (n: number, now: number, claims: Record<string, unknown> | null = { sub: 'alice' }): MintedToken => ({
  jwt: `jwt.${n}`,
  expiresAt: now + 60_000,
  oiat: null,
  iat: n,
  lifetimeS: 60,
  claims,
});
const published = (effects: readonly Effect[]) => effects.filter((e) => e.type === 'publish');

describe('reduce', () => {
  it('a session and its first token (a redirect redeemed) are one change, and the call resolves with its version and returnTo', () => {
    const signedOut = run(newState(), [
      { type: 'start' },
      { type: 'sessions', id: 1, answer: { sessions: new Set(), lastActiveSessionId: null, endsAt: new Map(), users: new Map() }, freshId: 'x' },
    ]).state;
    const { state, effects } = reduce(
      signedOut,
      { type: 'signed-in', id: -1, result: { sessionId: 'oidc_1', userId: 'alice', token: token(1, 0), returnTo: '/inbox' } },
      0,
    );
    expect(published(effects)).toEqual([
      {
        type: 'publish',
        change: expect.objectContaining({
          type: 'status',
          status: 'ok',
          sessionId: 'oidc_1',
          userId: 'alice',
          tokens: { 'oidc_1|||': expect.objectContaining({ jwt: 'jwt.1' }) },
        }),
      },
    ]);
    expect(effects).toContainEqual({ type: 'settle', id: -1, outcome: { value: { returnTo: '/inbox', version: state.version } } });
    expect(state.version).toBe(signedOut.version + 1);
  });

  it('a failure that came with a token (a refreshed ID token dropped) goes to the error event, and the token is served', () => {
    const { state: active, effects: started } = run(newState(), [
      { type: 'use', sessionId: 's' },
      { type: 'read', id: -1, request: request({ skipCache: true }), deadline: 10_000 },
    ]);
    // The session's default token is wanted at once; the read rides on that mint.
    const [mint] = mintsOf(started[0]!);
    expect(mintsOf(started[1]!)).toEqual([]);
    const warning = new TokenInvalidError('dropped');
    const { effects } = reduce(active, { type: 'minted', id: mint!.id, token: { ...token(2, 0), warning }, freshId: 'x' }, 0);
    expect(effects).toContainEqual({ type: 'report', error: warning });
    expect(effects).toContainEqual({ type: 'settle', id: -1, outcome: { value: 'jwt.2' } });
  });

  it('a request past the caller timeout makes the status degraded until its answer lands', () => {
    let { state } = run(newState(), [
      { type: 'use', sessionId: 's' },
      { type: 'tabs', count: 1 },
    ]);
    const flight = [...state.flights.values()][0]!;
    expect(state.alarmAt).toBe(5000); // the first poll tick comes before the request's 10 s
    state = run(state, [{ type: 'time' }], 5000).state;
    expect(state.status).toBe('ok');
    state = run(state, [{ type: 'time' }], 10_000).state;
    expect(state.status).toBe('degraded');
    state = reduce(state, { type: 'minted', id: flight.id, token: token(3, 25_000), freshId: 'x' }, 25_000).state;
    expect(state.status).toBe('ok');
  });

  it('an endpoint token for another user starts a new session in one change; a visible tab looks the session up at most once per poll interval', () => {
    const traits = { oneToken: true, pollSignedOut: false, switchable: false, sessionFromToken: true };
    let { state } = run(newState({ traits }), [
      { type: 'start' },
      { type: 'sessions', id: 1, answer: { token: token(1, 0, { sub: 'alice' }) }, freshId: 's_a' },
    ]);
    expect(state.session).toMatchObject({ kind: 'active', sessionId: 's_a', userId: 'alice' });
    const t = reduce(state, { type: 'sessions', id: -5, answer: { token: token(2, 0, { sub: 'bob' }) }, freshId: 's_b' }, 0);
    // (An answer nobody waits for is dropped; a sync's answer is applied.)
    expect(t.state).toEqual(state);
    expect(t.effects).toEqual([]);
    const synced = run(state, [
      { type: 'sync', id: -6 },
      { type: 'sessions', id: -6, answer: { token: token(2, 0, { sub: 'bob' }) }, freshId: 's_b' },
    ]);
    expect(synced.state.session).toMatchObject({ kind: 'active', sessionId: 's_b', userId: 'bob' });
    expect([...synced.state.tokens.keys()]).toEqual(['s_b|||']);
    expect(published(synced.effects[1]!)).toHaveLength(1);
    state = run(newState({ traits }), [{ type: 'start' }, { type: 'sessions', id: 1, answer: { token: null }, freshId: 'x' }]).state;
    expect(state.status).toBe('signed-out');
    // The look-up at start counts: a tab that says it is visible as it connects asks nothing more.
    expect(
      run(state, [{ type: 'visible' }], 1000)
        .effects.flat()
        .filter((e) => e.type === 'read-sessions'),
    ).toEqual([]);
    const visible = run(state, [{ type: 'visible' }, { type: 'visible' }], 6000);
    expect(visible.effects.flat().filter((e) => e.type === 'read-sessions')).toHaveLength(1);
    expect(
      run(visible.state, [{ type: 'sessions', id: visible.state.seq, answer: { token: null }, freshId: 'x' }, { type: 'time' }], 20_000)
        .effects.flat()
        .filter((e) => e.type === 'read-sessions'),
    ).toEqual([]);
  });

  it('an action dispatched while a transition is carried out is refused (re-entrant dispatch)', async () => {
    const clock = new FakeClock();
    let engine!: TokenEngine;
    const origin = {
      readSessions: async () => ({ sessions: new Set(['s']), lastActiveSessionId: 's', endsAt: new Map(), users: new Map() }),
      mint: async () => token(1, clock.now()),
      endSession: async () => {},
      classify: () => 'error' as const,
      inspect: () => null,
      counters: () => ({ mints: 0, mint: 0, client: 0, end: 0, failed: 0 }),
      abortAll: () => {},
    };
    engine = new TokenEngine(engineConfig(), { clock, origin, store: null });
    const errors: unknown[] = [];
    engine.onError((e) => errors.push(e));
    // A listener that calls back into the engine while a change is being published.
    engine.subscribe(() => engine.visible());
    await engine.ready;
    await engine.getToken(request());
    expect(errors.some((e) => e instanceof Error && /dispatched while another action/.test(e.message))).toBe(true);
    engine.close();
  });

  it('an alarm that rings a moment early is armed again for what is still due', () => {
    let { state } = run(newState(), [
      { type: 'use', sessionId: 's' },
      { type: 'read', id: -1, request: request({ skipCache: true }), deadline: 10_000 },
    ]);
    expect(state.alarmAt).toBe(10_000);
    // The timer rings at 9 999 on a coarse clock: nothing is due yet, and the alarm must be set again.
    const early = reduce(state, { type: 'time' }, 9_999);
    expect(early.effects).toContainEqual({ type: 'arm', at: 10_000 });
    state = early.state;
    const due = reduce(state, { type: 'time' }, 10_000);
    expect(due.effects).toContainEqual({ type: 'settle', id: -1, outcome: { error: expect.objectContaining({ code: 'origin_unavailable' }) } });
  });

  it('a read with a token a server refused is served the cached token when it is another, and mints only when it is the refused one', () => {
    let { state, effects } = run(newState(), [{ type: 'use', sessionId: 's' }]);
    const [mint] = mintsOf(effects[0]!);
    state = reduce(state, { type: 'minted', id: mint!.id, token: token(1, 0), freshId: 'x' }, 0).state;
    const newer = reduce(state, { type: 'read', id: -1, request: request({ skipCache: true, refused: 'jwt.0' }), deadline: 10_000 }, 0);
    expect(newer.effects).toContainEqual({ type: 'settle', id: -1, outcome: { value: 'jwt.1' } });
    expect(mintsOf(newer.effects)).toEqual([]);
    const same = reduce(state, { type: 'read', id: -2, request: request({ skipCache: true, refused: 'jwt.1' }), deadline: 10_000 }, 0);
    expect(mintsOf(same.effects)).toHaveLength(1);
  });
});
