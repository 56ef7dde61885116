/**
 * One transition under construction. The reducer's decisions (reads.ts, flights.ts, sessions.ts,
 * reduce.ts) edit a Draft; the state it started from is never touched, every map is copied before
 * it changes, and `finish()` turns the draft into the next state and its effects: the one change
 * for the tabs, the settles that carry the new version, and the alarm.
 */
import { MAX_PERSISTED_LIFETIME_S, REQUEST_TIMEOUT_MS } from '../protocol/constants.ts';
import type { StoredSession } from './TokenStore.ts';
import { isAtLeastAsFresh } from '../protocol/freshness.ts';
import type { Claims, EngineChange, SnapshotToken } from '../protocol/types.ts';
import type { Effect, Outcome, Transition } from './actions.ts';
import { snapshotToken } from '../protocol/messages.ts';
import { isOpen } from './backoff.ts';
import {
  activeSessionId,
  defaultKeyOf,
  isFailing,
  statusOf,
  type CacheEntry,
  type Discovery,
  type EngineState,
  type Flight,
  type PendingCall,
  type Waiter,
} from './state.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A copy of `map` with `key` set to `value`, or removed (null). */
export function put<K, V>(map: ReadonlyMap<K, V>, key: K, value: V | null): Map<K, V> {
  const copy = new Map(map);
  if (value === null) copy.delete(key);
  else copy.set(key, value);
  return copy;
}

export class Draft {
  readonly now: number;
  /** The state the transition started from. */
  readonly prev: EngineState;
  /** The next state, edited in place; its maps are always fresh copies. */
  readonly s: Mutable<EngineState>;
  readonly #effects: Effect[] = [];
  /** Calls that resolve with the version the transition ends at (and what else they return). */
  readonly #atVersion: { id: number; extra: Record<string, unknown> | null }[] = [];
  /** Pending calls that record the version the transition ends at, to resolve with it later. */
  readonly #stamped: number[] = [];

  constructor(prev: EngineState, now: number) {
    this.prev = prev;
    this.now = now;
    this.s = { ...prev };
  }

  get sessionId(): string | null {
    return activeSessionId(this.s);
  }

  /** A new request id. */
  id(): number {
    return ++this.s.seq;
  }

  effect(effect: Effect): void {
    this.#effects.push(effect);
  }

  report(error: unknown): void {
    this.effect({ type: 'report', error });
  }

  settle(id: number, outcome: Outcome): void {
    this.effect({ type: 'settle', id, outcome });
  }

  /** Resolves call `id` with the version this transition ends at (with `extra`'s fields, when given). */
  settleAtVersion(id: number, extra: Record<string, unknown> | null = null): void {
    this.#atVersion.push({ id, extra });
  }

  /** Records in pending call `id` the version this transition ends at. */
  stampVersion(id: number): void {
    this.#stamped.push(id);
  }

  setFlight(key: string, flight: Flight | null): void {
    this.s.flights = put(this.s.flights, key, flight);
  }

  setWaiter(id: number, waiter: Waiter | null): void {
    this.s.waiting = put(this.s.waiting, id, waiter);
  }

  setCall(id: number, call: PendingCall | null): void {
    this.s.calls = put(this.s.calls, id, call);
  }

  /** Changes some fields of the session look-up's state. */
  look(patch: Partial<Discovery>): void {
    this.s.discovery = { ...this.s.discovery, ...patch };
  }

  /**
   * Offers a minted token for `key` of the active session: it is cached only when it is fresher than
   * the cached one (SPEC 4); a default token also becomes the lastActiveToken and carries the
   * session's claims. Returns whether it was taken.
   */
  offer(key: string, entry: CacheEntry): boolean {
    const sessionId = this.sessionId;
    if (sessionId === null || !key.startsWith(`${sessionId}|`)) return false;
    const current = this.s.tokens.get(key);
    // The same token again (an origin that answers with the token it already gave) changes nothing.
    if (current && (current.jwt === entry.jwt || !isAtLeastAsFresh(entry, current))) return false;
    this.s.tokens = put(this.s.tokens, key, entry);
    if (key === defaultKeyOf(sessionId)) {
      const last = this.s.lastActive.get(sessionId);
      if (!last || isAtLeastAsFresh(entry, last)) this.s.lastActive = put(this.s.lastActive, sessionId, entry);
      if (entry.claims && this.s.session.kind === 'active') this.s.session = { ...this.s.session, claims: entry.claims };
    }
    return true;
  }

  evict(key: string): void {
    if (this.s.tokens.has(key)) this.s.tokens = put(this.s.tokens, key, null);
  }

  /** Turns the draft into the next state and the effects the world carries out, in order. */
  finish(): Transition {
    const s = this.s;
    const prev = this.prev;
    const status = statusOf(s.session, isFailing(s));
    if (status !== prev.status) {
      s.status = status;
      s.since = this.now;
    }
    const change = changeOf(prev, s);
    const effects: Effect[] = [];
    if (change) {
      s.version = prev.version + 1;
      // First: the tabs' mirrors hear of the change before any reply about it arrives.
      effects.push({ type: 'publish', change: { ...change, version: s.version } as EngineChange });
    }
    for (const id of this.#stamped) {
      const call = s.calls.get(id);
      if (call && 'version' in call) s.calls = put(s.calls, id, { ...call, version: s.version });
    }
    effects.push(...this.#effects);
    // Storage follows the session, its tokens and its lastActiveToken: one record, written whole.
    if (s.storage === 'indexeddb' && (prev.session !== s.session || prev.tokens !== s.tokens || prev.lastActive !== s.lastActive))
      effects.push({ type: 'persist', session: storedOf(s) });
    for (const { id, extra } of this.#atVersion) effects.push({ type: 'settle', id, outcome: { value: extra ? { ...extra, version: s.version } : s.version } });
    const at = s.closed ? null : alarmOf(s, this.now);
    if (at !== s.alarmAt) {
      s.alarmAt = at;
      effects.push({ type: 'arm', at });
    }
    return { state: s, effects };
  }
}

/**
 * What a reload needs: the active session, its tokens — only those that live at most an hour (a
 * longer one stays in memory) — and its lastActiveToken.
 */
function storedOf(s: EngineState): StoredSession | null {
  if (s.session.kind !== 'active') return null;
  const { sessionId, userId } = s.session;
  const tokens: StoredSession['tokens'] = {};
  for (const [key, e] of s.tokens) if (e.lifetimeS <= MAX_PERSISTED_LIFETIME_S) tokens[key] = { jwt: e.jwt, expiresAt: e.expiresAt };
  return { sessionId, userId, tokens, lastActive: s.lastActive.get(sessionId)?.jwt ?? null };
}

type Change = EngineChange extends infer C ? (C extends { version: number } ? Omit<C, 'version'> : never) : never;

const userOf = (s: EngineState): string | null => (s.session.kind === 'active' ? s.session.userId : null);
const claimsOf = (s: EngineState): Claims | null => (s.session.kind === 'active' ? s.session.claims : null);

/**
 * The one message of a transition (SPEC 6): a `token` when one token is all that changed, an
 * `evict` when one key went, a `signout` when the session ended, and otherwise a `status` carrying
 * the whole view (session, status, storage and every token), which a tab takes as it is. So a
 * session switch with N keys is one message, never N + 1, and no tab sees a state in between.
 */
function changeOf(prev: EngineState, next: EngineState): Change | null {
  const changed: [string, CacheEntry][] = [];
  for (const [key, entry] of next.tokens) if (prev.tokens.get(key) !== entry) changed.push([key, entry]);
  const removed = [...prev.tokens.keys()].filter((key) => !next.tokens.has(key));
  const sessionId = activeSessionId(next);
  const sessionMoved = activeSessionId(prev) !== sessionId || prev.status !== next.status || userOf(prev) !== userOf(next) || prev.storage !== next.storage;
  const claims = claimsOf(next);
  const claimsMoved = claimsOf(prev) !== claims;
  if (!sessionMoved && !claimsMoved && changed.length === 0 && removed.length === 0) return null;
  const ended = activeSessionId(prev);
  if (ended !== null && next.session.kind === 'signed-out')
    return { type: 'signout', sessionId: ended, status: next.status, since: next.since, storage: next.storage };
  const [only] = changed;
  if (!sessionMoved && removed.length === 0 && changed.length === 1 && only) {
    const [key, entry] = only;
    const isDefault = sessionId !== null && key === defaultKeyOf(sessionId);
    // The default token's payload is the session's claims: they travel with it.
    if (!claimsMoved || (isDefault && entry.claims === claims)) {
      return { type: 'token', key, ...snapshotToken(entry), ...(isDefault && entry.claims ? { claims: entry.claims } : {}) };
    }
  }
  if (!sessionMoved && !claimsMoved && changed.length === 0 && removed.length === 1) return { type: 'evict', key: removed[0]! };
  const tokens: Record<string, SnapshotToken> = {};
  for (const [key, entry] of next.tokens) tokens[key] = snapshotToken(entry);
  return { type: 'status', status: next.status, since: next.since, sessionId, userId: userOf(next), claims, storage: next.storage, tokens };
}

/**
 * When the engine must next be woken: a waiting caller's deadline, the next poll tick, the backoff
 * gate opening for what waits behind it, a request reaching the caller timeout.
 */
function alarmOf(s: EngineState, now: number): number | null {
  let at = s.nextPollAt ?? Infinity;
  for (const waiter of s.waiting.values()) at = Math.min(at, waiter.deadline);
  let parked = s.discovery.owed;
  for (const flight of s.flights.values()) {
    if (flight.phase === 'parked') parked = true;
    else if (!flight.slow) at = Math.min(at, flight.sentAt + REQUEST_TIMEOUT_MS);
  }
  const look = s.discovery.inFlight;
  if (look && !look.slow) at = Math.min(at, look.sentAt + REQUEST_TIMEOUT_MS);
  if (parked && !isOpen(s.gate, now)) at = Math.min(at, s.gate.notBefore);
  return at === Infinity ? null : at;
}
