/**
 * The reducer against random sequences of everything that can happen to an engine: restores,
 * tokens with random oiat/iat (some minted before a sign-out or switch), evictions, session
 * switches, sign-outs, origin answers with no session, outages starting and ending, storage
 * failing, and close. After every step the invariants of SPEC 2–6 must hold, and the changes
 * folded through the tab's own SnapshotMirror must give exactly the engine's snapshot.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../protocol/constants.ts';
import { isAtLeastAsFresh, staleAt } from '../../protocol/freshness.ts';
import type { EngineChange } from '../../protocol/types.ts';
import { SnapshotMirror } from '../../client/SnapshotMirror.ts';
import { activeSessionId, initialState, snapshotOf, statusOf, type Action, type CacheEntry, type EngineState, type StoreWrite } from '../../engine/engineState.ts';
import { reduce } from '../../engine/reduce.ts';
import { seeded } from './support/seeded.ts';

const SESSIONS = ['sess_a', 'sess_b', 'sess_c'] as const;
const KEY_TAILS = ['||', 'api||', '|org_1|', '||3600'] as const;

const entryArb: fc.Arbitrary<CacheEntry> = fc
  .record({
    oiat: fc.option(fc.integer({ min: 1000, max: 1010 }), { nil: null }),
    iat: fc.integer({ min: 1000, max: 1010 }),
    expiresAt: fc.integer({ min: 0, max: 200_000 }),
    lifetimeS: fc.constantFrom(60, 3600, 7200),
    n: fc.nat(1_000_000),
    opaque: fc.boolean(),
  })
  .map(({ oiat, iat, expiresAt, lifetimeS, n, opaque }) => ({ jwt: `jwt.${n}.${oiat}.${iat}`, expiresAt, staleAt: staleAt(expiresAt), oiat, iat, lifetimeS, claims: opaque ? null : { iat, n } }));

const userArb = fc.constantFrom(null, 'user_1', 'user_2');

const keyArb = fc.tuple(fc.constantFrom(...SESSIONS), fc.constantFrom(...KEY_TAILS)).map(([s, tail]) => `${s}|${tail}`);

/** An action; a token's `epoch` is chosen relative to the state it meets (current, or stale). */
type Step = { action: Action } | { token: { key: string; entry: CacheEntry; staleBy: number } };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ key: keyArb, entry: entryArb, staleBy: fc.constantFrom(0, 0, 0, 1, 2) }).map((token) => ({ token })) },
  { weight: 1, arbitrary: fc.record({ sessionId: fc.constantFrom(...SESSIONS), userId: userArb, entries: fc.array(fc.tuple(keyArb, entryArb), { maxLength: 4 }), lastActive: fc.option(entryArb, { nil: null }) }).map((r) => ({ action: { type: 'restore' as const, ...r } })) },
  { weight: 2, arbitrary: keyArb.map((key) => ({ action: { type: 'evict' as const, key } })) },
  { weight: 2, arbitrary: fc.record({ sessionId: fc.constantFrom(...SESSIONS), userId: userArb }).map((r) => ({ action: { type: 'session' as const, ...r } })) },
  { weight: 2, arbitrary: fc.record({ sessionId: fc.constantFrom(...SESSIONS), dismiss: fc.boolean() }).map((r) => ({ action: { type: 'signout' as const, ...r } })) },
  { weight: 1, arbitrary: fc.constant({ action: { type: 'no-session' as const } }) },
  { weight: 2, arbitrary: fc.boolean().map((failing) => ({ action: { type: 'outage' as const, failing } })) },
  { weight: 1, arbitrary: fc.constant({ action: { type: 'storage' as const, storage: 'memory' as const } }) },
  { weight: 1, arbitrary: fc.constant({ action: { type: 'close' as const } }) },
);

/** What storage holds after the persist effects, applied in order as the Persister does. */
class StoreModel {
  tokens = new Map<string, string>();
  last = new Map<string, string>();
  active: { sessionId: string; userId: string | null } | null = null;
  apply(w: StoreWrite): void {
    if (w.op === 'setToken') this.tokens.set(w.key, w.token.jwt);
    else if (w.op === 'deleteToken') this.tokens.delete(w.key);
    else if (w.op === 'setLastActive') this.last.set(w.sessionId, w.jwt);
    else if (w.op === 'setActiveSession') this.active = w.session;
    else {
      for (const key of [...this.tokens.keys()]) if (key.startsWith(`${w.sessionId}|`)) this.tokens.delete(key);
      this.last.delete(w.sessionId);
    }
  }
}

const sessionOfKey = (key: string) => key.slice(0, key.indexOf('|'));

describe('reduce (model-based)', () => {
  it('keeps every invariant over random sequences of actions, and the tab mirror folds to the engine snapshot', { timeout: 120_000 }, () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 60 }), fc.integer({ min: 1, max: 1000 }), (steps, dt) => {
        let state: EngineState = initialState('indexeddb', 0);
        let now = 0;
        const store = new StoreModel();
        const mirror = new SnapshotMirror('shared');
        mirror.adopt('engine', { ...snapshotOf(state), mode: 'shared' });
        /** Sessions signed out and not active again since. */
        const ended = new Set<string>();
        for (const step of steps) {
          now += dt;
          const action: Action = 'action' in step ? step.action : { type: 'token', key: step.token.key, entry: step.token.entry, epoch: state.epoch - step.token.staleBy };
          const before = state;
          const { state: after, changes, effects } = reduce(before, action, now);

          // Nothing changes after close, and nothing is asked for.
          if (before.closed) {
            expect(after).toBe(before);
            expect(changes).toEqual([]);
            expect(effects).toEqual([]);
            continue;
          }
          // Versions rise strictly, one per change, and the state carries the last one.
          changes.reduce((v, c) => {
            expect(c.version).toBe(v + 1);
            return c.version;
          }, before.version);
          expect(after.version).toBe(changes.at(-1)?.version ?? before.version);
          // The status is what the session and the outage imply; `since` moves only with it.
          expect(after.status).toBe(statusOf(after.session, after.failing));
          if (after.status === before.status) expect(after.since).toBe(before.since);
          // A token from before a sign-out or a switch never lands.
          if (action.type === 'token' && action.epoch !== before.epoch) expect(after.tokens).toBe(before.tokens);
          // A key's token never becomes less fresh while it stays cached.
          for (const [key, entry] of after.tokens) {
            const previous = before.tokens.get(key);
            if (previous) expect(isAtLeastAsFresh(entry, previous)).toBe(true);
          }
          // Only the active session's keys are cached.
          const active = activeSessionId(after);
          for (const key of after.tokens.keys()) expect(sessionOfKey(key)).toBe(active);

          for (const effect of effects) if (effect.type === 'persist') store.apply(effect.write);
          if (action.type === 'signout' && activeSessionId(before) === action.sessionId) ended.add(action.sessionId);
          if (active !== null) ended.delete(active);
          // After the sign-out of a session, no key of it appears and nothing of it stays stored.
          for (const sessionId of ended) {
            for (const key of after.tokens.keys()) expect(sessionOfKey(key)).not.toBe(sessionId);
            for (const key of store.tokens.keys()) expect(sessionOfKey(key)).not.toBe(sessionId);
            expect(store.last.has(sessionId)).toBe(false);
            expect(after.lastActive.has(sessionId)).toBe(false);
          }
          // Storage names the active session and its user, so a reload needs no request.
          if (after.session.kind === 'active' && effects.some((e) => e.type === 'persist' && e.write.op === 'setActiveSession')) {
            expect(store.active).toEqual({ sessionId: after.session.sessionId, userId: after.session.userId });
          }
          // The claims are the default token's.
          if (after.session.kind === 'active' && action.type === 'token' && after.tokens.get(`${active}|||`)?.claims) {
            expect(after.session.claims).toBe(after.tokens.get(`${active}|||`)?.claims);
          }
          // Every persisted token is a cached one (storage never holds what the tabs cannot see).
          for (const [key, jwt] of store.tokens) if (sessionOfKey(key) === active && after.tokens.has(key)) expect(after.tokens.get(key)?.jwt).toBe(jwt);

          // The tab's mirror, fed the published changes, shows exactly the engine's snapshot.
          for (const change of changes as EngineChange[]) mirror.apply({ v: PROTOCOL_VERSION, instance: 'engine', ...change });
          const { mode: _mode, ...mirrored } = mirror.snapshot;
          expect(mirrored).toEqual(snapshotOf(after));
          state = after;
        }
      }),
      seeded(1500),
    );
  });
});
