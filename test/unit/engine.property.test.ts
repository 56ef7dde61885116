/**
 * The engine's reducer against random histories, with a simulated world around it: tabs that read,
 * report reads, come and go and become visible; an origin whose sessions are signed in and ended
 * elsewhere; answers that succeed, fail in every way the origin can fail, arrive late or out of
 * order; the poller's alarm; storage that fails; sign-outs, switches, re-sign-ins and `sync()`.
 * After every transition the result is held against models written from the spec, not from the
 * engine's code:
 * - the backoff gate (SPEC 5): no request before it allows, escalation once per round, the status
 *   `degraded` exactly while it is closed-by-failure or a request is past the caller timeout;
 * - the tab's view (SPEC 6): folding the published changes gives exactly the engine's snapshot, one
 *   change per transition at most, versions rising by exactly one;
 * - storage (SPEC 4): nothing of an ended session stays, the active session is named;
 * - the callers: each settled once — with a token of the session active then, null only when signed
 *   out, or a typed error — and none left waiting once the world goes quiet;
 * - the poller: it runs exactly while a tab is connected.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BACKOFF_CAP_MS, BACKOFF_FACTOR, BACKOFF_FIRST_MS, REQUEST_TIMEOUT_MS, RETRY_AFTER_MAX_MS } from '../../protocol/constants.ts';
import { OriginResponseError, OriginUnavailableError, TokenError } from '../../protocol/errors.ts';
import { cacheKey } from '../../protocol/names.ts';
import type { EngineChange, SnapshotToken, TokenRequest } from '../../protocol/types.ts';
import type { Action, Effect } from '../../engine/actions.ts';
import type { StoredSession } from '../../engine/TokenStore.ts';
import { reduce } from '../../engine/reduce.ts';
import { activeSessionId, snapshotOf, type EngineState } from '../../engine/state.ts';
import type { FailureKind, MintedToken } from '../../engine/TokenOrigin.ts';
import { newState, request } from './support/reducer.ts';
import { seeded } from './support/seeded.ts';

const SESSIONS = ['sess_a', 'sess_b', 'sess_c'] as const;
const READS: TokenRequest[] = [request(), request({ template: 'api' }), request({ skipCache: true }), request({ leewayInSeconds: 40 })];

type Answer = 'ok' | 'down' | 'retry-after' | 'network' | 'unauthorized' | 'template' | 'missing-expired' | 'client-error';

type Step =
  | { type: 'read'; variant: number }
  | { type: 'refresh'; variant: number }
  | { type: 'report'; variant: number }
  | { type: 'answer'; pick: number; answer: Answer; u: number; seconds: number }
  | { type: 'alarm' }
  | { type: 'wait'; ms: number }
  | { type: 'tabs'; count: number }
  | { type: 'visible' }
  | { type: 'sync' }
  | { type: 'set-active'; session: number | null }
  | { type: 'sign-out' }
  | { type: 'signed-in-elsewhere'; session: number }
  | { type: 'ended-elsewhere' }
  | { type: 'storage-fails' };

const answerArb = fc.constantFrom<Answer>(
  'ok',
  'ok',
  'ok',
  'ok',
  'down',
  'retry-after',
  'network',
  'unauthorized',
  'template',
  'missing-expired',
  'client-error',
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.nat(READS.length - 1).map((variant) => ({ type: 'read' as const, variant })) },
  { weight: 1, arbitrary: fc.nat(READS.length - 1).map((variant) => ({ type: 'refresh' as const, variant })) },
  { weight: 1, arbitrary: fc.nat(READS.length - 1).map((variant) => ({ type: 'report' as const, variant })) },
  {
    weight: 10,
    arbitrary: fc
      .record({ pick: fc.nat(20), answer: answerArb, u: fc.double({ min: 0, max: 0.999, noNaN: true }), seconds: fc.constantFrom(1, 7, 40) })
      .map((a) => ({ type: 'answer' as const, ...a })),
  },
  { weight: 5, arbitrary: fc.constant({ type: 'alarm' as const }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((ms) => ({ type: 'wait' as const, ms })) },
  { weight: 2, arbitrary: fc.nat(3).map((count) => ({ type: 'tabs' as const, count })) },
  { weight: 1, arbitrary: fc.constant({ type: 'visible' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'sync' as const }) },
  { weight: 1, arbitrary: fc.option(fc.nat(SESSIONS.length - 1), { nil: null }).map((session) => ({ type: 'set-active' as const, session })) },
  { weight: 1, arbitrary: fc.constant({ type: 'sign-out' as const }) },
  { weight: 1, arbitrary: fc.nat(SESSIONS.length - 1).map((session) => ({ type: 'signed-in-elsewhere' as const, session })) },
  { weight: 1, arbitrary: fc.constant({ type: 'ended-elsewhere' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'storage-fails' as const }) },
);

/** SPEC 5's gate, written from the spec: full jitter `u · min(30 s, 1 s · 2^n)`, Retry-After a floor up to 5 min, one escalation per round. */
class GateModel {
  notBefore = 0;
  attempt = 0;
  delay(attempt: number, retryAfterS: number | null, u: number): number {
    const jitter = Math.floor(u * Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * BACKOFF_FACTOR ** attempt));
    return retryAfterS === null ? jitter : Math.max(Math.min(retryAfterS * 1000, RETRY_AFTER_MAX_MS), jitter);
  }
  failure(now: number, retryAfterS: number | null, u: number): void {
    if (now >= this.notBefore) this.notBefore = now + this.delay(this.attempt++, retryAfterS, u);
    else if (retryAfterS !== null) this.notBefore = Math.max(this.notBefore, now + this.delay(0, retryAfterS, u));
  }
  success(): void {
    this.notBefore = 0;
    this.attempt = 0;
  }
}

/** What storage holds: the last record written (a persist effect replaces it whole). */
class StoreModel {
  record: StoredSession | null = null;
}

/** A tab's view, folded from the published changes exactly as SPEC 6 describes each message. */
interface View {
  version: number;
  status: string;
  since: number;
  storage: string;
  sessionId: string | null;
  userId: string | null;
  claims: unknown;
  tokens: Record<string, SnapshotToken>;
}

function fold(view: View, c: EngineChange): View {
  const next = { ...view, version: c.version, tokens: { ...view.tokens } };
  switch (c.type) {
    case 'token':
      next.tokens[c.key] = { jwt: c.jwt, expiresAt: c.expiresAt, staleAt: c.staleAt, ...(c.scheme ? { scheme: c.scheme } : {}) };
      if (c.claims) next.claims = c.claims;
      return next;
    case 'evict':
      delete next.tokens[c.key];
      return next;
    case 'signout':
      return { ...next, sessionId: null, userId: null, claims: null, tokens: {}, status: c.status!, since: c.since!, storage: c.storage! };
    case 'status':
      return {
        ...next,
        status: c.status,
        since: c.since,
        sessionId: c.sessionId,
        userId: c.userId,
        claims: c.claims,
        storage: c.storage,
        tokens: { ...c.tokens! },
      };
  }
}

type Request =
  | { kind: 'mint'; id: number; at: number; sessionId: string; key: string; target: { template: string | null }; expiredToken: string | null }
  | { kind: 'sessions'; id: number; at: number }
  | { kind: 'done' | 'redirect'; id: number; at: number };

const sessionOfKey = (key: string) => key.slice(0, key.indexOf('|'));
const sessionOfJwt = (jwt: string) => jwt.split('.')[1];

function failureOf(answer: Answer, seconds: number): { error: unknown; kind: FailureKind; retryAfter: number | null } {
  switch (answer) {
    case 'down':
      return { error: new OriginResponseError(503, [{ code: 'down' }]), kind: 'outage', retryAfter: null };
    case 'retry-after':
      return { error: new OriginResponseError(429, [{ code: 'too_many_requests' }], seconds), kind: 'outage', retryAfter: seconds };
    case 'network':
      return { error: new OriginUnavailableError('Failed to fetch'), kind: 'outage', retryAfter: null };
    case 'unauthorized':
      return { error: new OriginResponseError(401, [{ code: 'session_ended' }]), kind: 'signout', retryAfter: null };
    case 'template':
      return { error: new OriginResponseError(404, [{ code: 'template_not_found' }]), kind: 'error', retryAfter: null };
    case 'missing-expired':
      return { error: new OriginResponseError(422, [{ code: 'missing_expired_token' }]), kind: 'missing-expired-token', retryAfter: null };
    default:
      return { error: new OriginResponseError(400, [{ code: 'bad' }]), kind: 'error', retryAfter: null };
  }
}

/** One history: the world, the reducer, the models, and the checks after every transition. */
function runHistory(steps: readonly Step[], storedSession: number | null): void {
  let now = 1_000_000;
  let state: EngineState = newState({ storage: 'indexeddb', now });
  const gate = new GateModel();
  const store = new StoreModel();
  if (storedSession !== null) store.record = { sessionId: SESSIONS[storedSession]!, userId: null, tokens: {}, lastActive: null };
  const origin: { sessions: Set<string>; last: string | null } = {
    sessions: new Set<string>(storedSession === null ? [] : [SESSIONS[storedSession]!]),
    last: storedSession === null ? null : SESSIONS[storedSession]!,
  };
  let view: View = { ...snapshotOf(state), since: now, claims: null, tokens: {} };
  let storageOk = true;
  let known = false;
  let mintN = 0;
  let callN = 0;
  const requests: Request[] = [];
  /** getToken calls not yet settled, and every call's outcome. */
  const waiting = new Map<number, TokenRequest>();
  const settled = new Set<number>();
  /** Other calls not yet settled: `sync`, `setActiveSession` (with the session asked for), `signOut`. */
  const otherCalls = new Map<number, string | null>();
  /** Sessions signed out here or ended, and not active since. */
  const ended = new Set<string>();

  const step = (action: Action) => {
    const before = state;
    const { state: after, effects } = reduce(before, action, now);
    state = after;
    check(before, after, effects);
    return effects;
  };

  const check = (before: EngineState, after: EngineState, effects: readonly Effect[]) => {
    // One change at most per transition, its version exactly one above the last.
    const published = effects.filter((e) => e.type === 'publish');
    expect(published.length).toBeLessThanOrEqual(1);
    expect(after.version).toBe(before.version + published.length);
    for (const e of published) {
      expect(e.change.version).toBe(after.version);
      view = fold(view, e.change);
    }
    const { version: _v, ...snap } = snapshotOf(after);
    const { version: _w, since: _s, ...folded } = view;
    expect(folded).toEqual(snap);
    expect(view.since).toBe(after.since);

    // The gate: no request to the origin before it allows (the calls `sync` and `setActiveSession` go outside it).
    for (const e of effects) {
      if (e.type === 'mint' || (e.type === 'read-sessions' && e.id > 0))
        expect(now, `${e.type} sent before the backoff allows`).toBeGreaterThanOrEqual(gate.notBefore);
    }
    // The gate itself against the model: as many escalations (one per round of failures, however
    // many keys fail in it), and closed until the same moment.
    expect(after.gate.attempt, 'backoff escalations').toBe(gate.attempt);
    expect(after.gate.notBefore, 'gate closed until').toBe(gate.notBefore);
    // The status, from the session and the gate model (and requests past the caller timeout).
    // (A call's own look-up — `sync`, `setActiveSession` — is that call's business, not the status's.)
    const slow = requests.some((r) => (r.kind === 'mint' || (r.kind === 'sessions' && r.id > 0)) && now >= r.at + REQUEST_TIMEOUT_MS && isLive(after, r));
    const failing = gate.attempt > 0 || slow;
    const sessionId = activeSessionId(after);
    if (sessionId !== null) expect(after.status).toBe(failing ? 'degraded' : 'ok');
    else if (known) expect(after.status).toBe('signed-out');
    else expect(['signed-out', failing ? 'degraded' : 'connecting']).toContain(after.status);

    // Only the active session's keys; a key's token never becomes less fresh while cached.
    for (const key of after.tokens.keys()) expect(sessionOfKey(key)).toBe(sessionId);
    for (const [key, entry] of after.tokens) {
      const previous = before.tokens.get(key);
      if (previous && activeSessionId(before) === sessionId) expect(entry.iat).toBeGreaterThanOrEqual(previous.iat);
    }
    // The poller runs exactly while a tab is connected.
    expect(after.nextPollAt === null).toBe(after.tabs === 0);

    for (const e of effects) {
      if (e.type === 'persist' && storageOk) store.record = e.session;
      if (e.type === 'mint') {
        // Never two requests for one key of one session, unless the older one was left behind by a sign-out or a switch.
        const key = cacheKey(e.sessionId, e.target);
        const other = requests.find((r) => r.kind === 'mint' && r.key === key);
        if (other) expect(isLive(before, other), `a second request for ${key}`).toBe(false);
        requests.push({ kind: 'mint', id: e.id, at: now, sessionId: e.sessionId, key, target: e.target, expiredToken: e.expiredToken });
      }
      if (e.type === 'read-sessions') requests.push({ kind: 'sessions', id: e.id, at: now });
      if (e.type === 'end-session' || e.type === 'forget') requests.push({ kind: 'done', id: e.id, at: now });
      if (e.type === 'read-redirect') requests.push({ kind: 'redirect', id: e.id, at: now });
      if (e.type === 'restore') requests.push({ kind: 'done', id: 0, at: now });
      if (e.type === 'settle') {
        expect(settled.has(e.id), `call ${e.id} settled twice`).toBe(false);
        settled.add(e.id);
        const read = waiting.get(e.id);
        waiting.delete(e.id);
        otherCalls.delete(e.id);
        if (!read) continue;
        if ('error' in e.outcome) expect(e.outcome.error).toBeInstanceOf(TokenError);
        else if (e.outcome.value === null) expect(after.session.kind).not.toBe('active');
        else expect(sessionOfJwt(e.outcome.value as string)).toBe(sessionId);
      }
    }
    if (after.session.kind !== 'unknown') known = true;
    if (sessionId !== null) ended.delete(sessionId);
    const was = activeSessionId(before);
    if (was !== null && was !== sessionId) ended.add(was);
    // Nothing of a session signed out or left stays cached, or stored.
    for (const id of ended) {
      for (const key of after.tokens.keys()) expect(sessionOfKey(key)).not.toBe(id);
      if (storageOk && effects.some((e) => e.type === 'persist')) expect(store.record?.sessionId).not.toBe(id);
    }
    // Once written, storage holds exactly what a reload needs: the active session and its user, its
    // tokens of at most an hour, its freshest default token; signed out, nothing.
    if (storageOk && effects.some((e) => e.type === 'persist')) {
      if (after.session.kind !== 'active') expect(store.record).toBeNull();
      else {
        expect(store.record).toMatchObject({ sessionId: after.session.sessionId, userId: after.session.userId });
        const kept = Object.fromEntries([...after.tokens].filter(([, e]) => e.lifetimeS <= 3600).map(([k, e]) => [k, { jwt: e.jwt, expiresAt: e.expiresAt }]));
        expect(store.record!.tokens).toEqual(kept);
        expect(store.record!.lastActive).toBe(after.lastActive.get(after.session.sessionId)?.jwt ?? null);
      }
    }
  };

  /** Whether the engine still waits for this request's answer. */
  const isLive = (s: EngineState, r: Request) => {
    if (r.kind === 'mint') return [...s.flights.values()].some((f) => f.id === r.id && f.phase === 'sent');
    if (r.kind === 'sessions') return r.id > 0 ? s.discovery.inFlight?.id === r.id : s.calls.has(r.id);
    return false;
  };

  const answer = (r: Request, how: Answer, u: number, seconds: number) => {
    requests.splice(requests.indexOf(r), 1);
    const live = isLive(state, r);
    if (r.kind === 'done' && r.id === 0) {
      // The restore: what storage holds.
      const active = storageOk ? store.record : null;
      const entries = active
        ? Object.entries(active.tokens).map(
            ([key, t]) => [key, { jwt: t.jwt, expiresAt: now + 30_000, staleAt: now + 15_000, oiat: null, iat: 0, lifetimeS: 60, claims: null }] as const,
          )
        : [];
      step({ type: 'restored', stored: active ? { sessionId: active.sessionId, userId: active.userId, entries, lastActive: null } : null });
      return;
    }
    if (r.kind === 'done') return void step({ type: 'done', id: r.id, error: how === 'ok' ? null : new Error('end failed') });
    if (r.kind === 'redirect') return void step({ type: 'done', id: r.id, value: null, error: null });
    if (r.kind === 'sessions') {
      const discover = r.id > 0 && live && state.discovery.inFlight?.epoch === state.epoch;
      if (how === 'ok' || how === 'template' || how === 'unauthorized' || how === 'missing-expired') {
        // An answer resets the backoff — but a setActiveSession refused (the session is not listed) changes nothing.
        const refused = r.id < 0 && typeof otherCalls.get(r.id) === 'string' && !origin.sessions.has(otherCalls.get(r.id)!);
        if (discover || (r.id < 0 && live && !refused)) gate.success();
        step({
          type: 'sessions',
          id: r.id,
          freshId: 's_new',
          answer: { sessions: new Set(origin.sessions), lastActiveSessionId: origin.last, endsAt: new Map(), users: new Map() },
        });
        return;
      }
      const f = failureOf(how, seconds);
      if (discover && f.kind === 'outage') gate.failure(now, f.retryAfter, u);
      step({ type: 'sessions-failed', id: r.id, error: f.error, kind: f.kind, random: u });
      return;
    }
    if (r.kind !== 'mint') return;
    // A mint: the origin mints only for a session it has; a request for another is refused 401.
    const exists = origin.sessions.has(r.sessionId);
    const how2: Answer = how === 'ok' && !exists ? 'unauthorized' : how;
    if (how2 === 'ok') {
      if (live) gate.success();
      const n = ++mintN;
      const token: MintedToken = {
        jwt: `jwt.${r.sessionId}.${r.key}.${n}`,
        expiresAt: now + 60_000,
        oiat: null,
        iat: n,
        lifetimeS: 60,
        claims: { sid: r.sessionId, n },
      };
      step({ type: 'minted', id: r.id, token, freshId: 's_new' });
      return;
    }
    const f = failureOf(how2, seconds);
    if (live && f.kind === 'outage') gate.failure(now, f.retryAfter, u);
    step({ type: 'mint-failed', id: r.id, error: f.error, kind: f.kind, random: u });
  };

  const alarm = () => {
    if (state.alarmAt === null) return;
    now = Math.max(now, state.alarmAt);
    step({ type: 'time' });
  };

  step({ type: 'start' });
  for (const s of steps) {
    if (state.closed) break;
    switch (s.type) {
      case 'read': {
        const id = --callN;
        waiting.set(id, READS[s.variant]!);
        step({ type: 'read', id, request: READS[s.variant]!, deadline: now + 10_000 });
        break;
      }
      case 'refresh':
        step({ type: 'refresh', request: READS[s.variant]! });
        break;
      case 'report': {
        const sid = activeSessionId(state);
        if (sid) step({ type: 'reads', reads: [{ key: cacheKey(sid, READS[s.variant]!), request: READS[s.variant]! }] });
        break;
      }
      case 'answer': {
        const r = requests[s.pick % Math.max(1, requests.length)];
        if (r) answer(r, s.answer, s.u, s.seconds);
        break;
      }
      case 'alarm':
        alarm();
        break;
      case 'wait':
        // Time passes short of the alarm (which rings at its own moment, as a timer does).
        now = state.alarmAt === null ? now + s.ms : Math.min(now + s.ms, Math.max(now, state.alarmAt - 1));
        break;
      case 'tabs':
        step({ type: 'tabs', count: s.count });
        break;
      case 'visible':
        step({ type: 'visible' });
        break;
      case 'sync': {
        const id = --callN;
        otherCalls.set(id, null);
        step({ type: 'sync', id });
        break;
      }
      case 'set-active': {
        const id = --callN;
        const sessionId = s.session === null ? null : SESSIONS[s.session]!;
        otherCalls.set(id, sessionId);
        step({ type: 'set-active', id, sessionId });
        break;
      }
      case 'sign-out': {
        const id = --callN;
        otherCalls.set(id, null);
        step({ type: 'sign-out', id });
        break;
      }
      case 'signed-in-elsewhere':
        origin.sessions.add(SESSIONS[s.session]!);
        origin.last = SESSIONS[s.session]!;
        break;
      case 'ended-elsewhere': {
        const sid = activeSessionId(state) ?? origin.last;
        if (sid) origin.sessions.delete(sid);
        if (origin.last === sid) origin.last = [...origin.sessions][0] ?? null;
        break;
      }
      case 'storage-fails':
        storageOk = false;
        step({ type: 'storage-failed', error: new Error('IndexedDB failed') });
        break;
    }
  }
  // The world goes quiet: every request answers, time runs on; no caller is left waiting.
  for (let round = 0; round < 50 && (requests.length > 0 || waiting.size > 0 || otherCalls.size > 0); round++) {
    for (const r of [...requests]) if (requests.includes(r)) answer(r, 'ok', 0.5, 1);
    alarm();
  }
  expect([...waiting.keys()], 'getToken calls never answered').toEqual([]);
  expect([...otherCalls], 'calls never answered').toEqual([]);
}

describe('the engine reducer (model-based)', () => {
  it('holds the gate, status, view, storage and caller invariants over random histories', { timeout: 300_000 }, () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 60 }), fc.option(fc.nat(SESSIONS.length - 1), { nil: null }), (steps, stored) =>
        runHistory(steps, stored),
      ),
      seeded(2000, { file: 'test/unit/engine.property.test.ts', name: 'holds the gate, status, view, storage and caller invariants over random histories' }),
    );
  });
});
