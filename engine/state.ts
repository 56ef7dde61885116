/**
 * The engine's state: everything the engine knows and decides from, as one immutable value. The
 * reducer (reduce.ts) is the only code that makes a new one; the world (timers, requests, storage,
 * the callers' promises) lives outside it, in the runners (runEffect.ts), and is named here only by
 * ids.
 */
import { cacheKey } from '../protocol/names.ts';
import type { FreshnessStamp } from '../protocol/freshness.ts';
import { snapshotToken } from '../protocol/messages.ts';
import type { Claims, EngineSnapshot, SnapshotToken, Status, StorageKind, TokenRequest } from '../protocol/types.ts';
import type { MintTarget, OriginTraits } from './TokenOrigin.ts';

/** One cached token. Times are milliseconds on this machine's clock; `iat`/`oiat` are the origin's seconds. */
export interface CacheEntry extends FreshnessStamp {
  readonly jwt: string;
  /** `receivedAt + (exp − originNow)·1000` (SPEC 3), or the value it was persisted with. */
  readonly expiresAt: number;
  /** `expiresAt − MIN_LEEWAY_S·1000`: what tabs mirror as the default staleness point. */
  readonly staleAt: number;
  /** `exp − iat`: decides whether the token may be persisted. */
  readonly lifetimeS: number;
  /** The token's payload; the default token's is the session's `claims`. Null for an opaque token. */
  readonly claims: Claims | null;
  /** Present only for a DPoP-bound token. */
  readonly scheme?: 'DPoP';
}

/** Where the engine stands with the session: one union, so no two flags can disagree. */
export type SessionState =
  /** Not known yet: storage had none and the origin has not answered. */
  | { readonly kind: 'unknown' }
  | { readonly kind: 'active'; readonly sessionId: string; readonly userId: string | null; readonly claims: Claims | null }
  /** The origin said nobody is signed in, or the session was signed out here. */
  | { readonly kind: 'signed-out' };

/**
 * One mint of one cache key, from its start to its settle: every caller that needs the key rides on
 * it (SPEC 4). `sent`: a request is out (since `sentAt`); `parked`: it waits for the backoff gate.
 */
export interface Flight {
  /** Matches the request's answer to the flight; an answer for another id is stale. */
  readonly id: number;
  readonly key: string;
  readonly sessionId: string;
  readonly target: MintTarget;
  readonly phase: 'sent' | 'parked';
  readonly sentAt: number;
  /** The request is past the caller timeout and still running (an origin that never abandons one). */
  readonly slow: boolean;
  /** The lastActiveToken, when the origin in outage mode asked for it (SPEC 5, seed 003). */
  readonly expiredToken: string | null;
  /** Callers waiting for the token (ids of `EngineState.waiting`). */
  readonly waiters: readonly number[];
  readonly lastError: unknown;
}

/** A `getToken` call that waits: for a flight's token, or for the session to be known. */
export interface Waiter {
  readonly request: TokenRequest;
  /** Local time it gives up (`OriginUnavailableError`). */
  readonly deadline: number;
  /** What the call needed from the origin, for the message should the wait run out. */
  readonly why: string;
  /** The key of the flight it rides, or null while it waits for the session. */
  readonly flight: string | null;
}

/** A call that resolves with the outcome of a request: `sync`, `setActiveSession`, `signOut`. */
export type PendingCall =
  | { readonly kind: 'sync' }
  | { readonly kind: 'confirm'; readonly sessionId: string }
  /** After a sign-out here (`version`), the origin drops what it holds of the session. */
  | { readonly kind: 'forget'; readonly version: number }
  /**
   * Before the sign-out, reading where the tab goes next (`version` null); then, signed out at
   * `version`, ending the session at the origin.
   */
  | { readonly kind: 'signOut'; readonly sessionId: string; readonly version: number | null; readonly redirect: string | null };

/** A key tabs have read, with the largest leeway asked for it in the read window. */
export interface TrackedRead {
  readonly request: TokenRequest;
  readonly leewayS: number;
  readonly lastReadAt: number;
}

/**
 * The origin-wide backoff gate (SPEC 5). `attempt` counts escalations since the last success, so
 * `attempt > 0` is exactly "the origin is failing".
 */
export interface Gate {
  readonly attempt: number;
  readonly notBefore: number;
  readonly lastError: unknown;
}

/** The session look-up (`readSessions`): the one in flight, the one owed, the re-check, the session's end. */
export interface Discovery {
  readonly inFlight: { readonly id: number; readonly epoch: number; readonly sentAt: number; readonly slow: boolean } | null;
  /** A look-up is wanted as soon as the gate opens. */
  readonly owed: boolean;
  /** A session restored from storage is re-checked at the first poll tick (not at start: SPEC 10's reload). */
  readonly recheck: boolean;
  /** When the active session ends (local clock), as the origin last said; void once the epoch moves. */
  readonly endsAt: { readonly epoch: number; readonly at: number } | null;
  /** `getToken` calls waiting for the session to be known. */
  readonly waiters: readonly number[];
  /** When the last look-up was sent (an origin not polled while signed out is asked at most once a poll interval). */
  readonly lastAt: number;
}

export interface EngineState {
  readonly session: SessionState;
  /** The token cache, by cache key; only keys of the active session. */
  readonly tokens: ReadonlyMap<string, CacheEntry>;
  /** The freshest default token of each session, expired or not: the outage re-mint needs it. */
  readonly lastActive: ReadonlyMap<string, CacheEntry>;
  /** Sessions signed out here: discovery must not pick them again from the origin's answer. */
  readonly dismissed: ReadonlySet<string>;
  readonly storage: StorageKind;
  /** Derived from the session, the gate and slow requests; kept so `since` moves only when it changes. */
  readonly status: Status;
  readonly since: number;
  /** Rises on every sign-out, session switch and close; an answer to a request of an older epoch is dropped. */
  readonly epoch: number;
  /** The version of the last published change (one per transition that changed anything tabs see). */
  readonly version: number;
  readonly closed: boolean;
  /** `ready` resolved: the session is known, or the first look-up failed. */
  readonly started: boolean;
  readonly gate: Gate;
  /** Mints in flight or parked, by cache key. */
  readonly flights: ReadonlyMap<string, Flight>;
  /** `getToken` calls waiting, by call id. */
  readonly waiting: ReadonlyMap<number, Waiter>;
  /** Other calls waiting on a request, by call id. */
  readonly calls: ReadonlyMap<number, PendingCall>;
  readonly discovery: Discovery;
  /** Keys read in the last 10 minutes (SPEC 4); `blocked` ones failed with an error that is not retried. */
  readonly reads: ReadonlyMap<string, TrackedRead>;
  readonly blocked: ReadonlySet<string>;
  /** Connected tabs; the poller runs while there is one. */
  readonly tabs: number;
  /** When the poller ticks next; null while no tab is connected. */
  readonly nextPollAt: number | null;
  /** The one timer the runners hold: when the engine must next be woken (`time`), or null. */
  readonly alarmAt: number | null;
  /** Mints started with nobody waiting (a stale read, the poller), and with callers waiting. */
  readonly refreshes: { readonly background: number; readonly foreground: number };
  /** The last request id given out. */
  readonly seq: number;
  readonly traits: OriginTraits;
  readonly pollIntervalMs: number;
}

/** The state of a new engine at `now`. */
export function initialState(o: { storage: StorageKind; now: number; traits: OriginTraits; pollIntervalMs: number }): EngineState {
  return {
    session: { kind: 'unknown' },
    tokens: new Map(),
    lastActive: new Map(),
    dismissed: new Set(),
    storage: o.storage,
    status: 'connecting',
    since: o.now,
    epoch: 0,
    version: 0,
    closed: false,
    started: false,
    gate: { attempt: 0, notBefore: 0, lastError: null },
    flights: new Map(),
    waiting: new Map(),
    calls: new Map(),
    discovery: { inFlight: null, owed: false, recheck: false, endsAt: null, waiters: [], lastAt: -Infinity },
    reads: new Map(),
    blocked: new Set(),
    tabs: 0,
    nextPollAt: null,
    alarmAt: null,
    refreshes: { background: 0, foreground: 0 },
    seq: 0,
    traits: o.traits,
    pollIntervalMs: o.pollIntervalMs,
  };
}

const DEFAULT_TARGET = { template: null, organizationId: null, expiresInSeconds: null } as const;

/** The default token's key of a session: `${sessionId}|||`. */
export const defaultKeyOf = (sessionId: string): string => cacheKey(sessionId, DEFAULT_TARGET);

/** The active session's id, or null. */
export function activeSessionId(state: Pick<EngineState, 'session'>): string | null {
  return state.session.kind === 'active' ? state.session.sessionId : null;
}

/** Whether the origin is failing: a retryable failure since the last success, or a request past the caller timeout. */
export function isFailing(state: Pick<EngineState, 'gate' | 'flights' | 'discovery'>): boolean {
  if (state.gate.attempt > 0 || state.discovery.inFlight?.slow) return true;
  for (const flight of state.flights.values()) if (flight.slow) return true;
  return false;
}

/** What `status` the session and the origin's health imply (SPEC 2, 5). */
export function statusOf(session: SessionState, failing: boolean): Status {
  if (session.kind === 'active') return failing ? 'degraded' : 'ok';
  if (session.kind === 'signed-out') return 'signed-out';
  return failing ? 'degraded' : 'connecting';
}

/** The snapshot every tab mirrors (without `mode`, which the transport adds). */
export function snapshotOf(state: EngineState): EngineSnapshot {
  const tokens: Record<string, SnapshotToken> = {};
  for (const [key, e] of state.tokens) tokens[key] = snapshotToken(e);
  const active = state.session.kind === 'active' ? state.session : null;
  return Object.freeze({
    version: state.version,
    status: state.status,
    storage: state.storage,
    sessionId: active?.sessionId ?? null,
    userId: active?.userId ?? null,
    claims: active?.claims ?? null,
    tokens: Object.freeze(tokens),
  });
}
