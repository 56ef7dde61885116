/**
 * The engine's state, the actions that change it and the effects a change asks for. All plain,
 * immutable data: `reduce` (reduce.ts) is the only function that makes a new state, and the
 * effects are carried out by small runners after each transition (TokenEngine.ts).
 */
import type { FreshnessStamp } from '../protocol/freshness.ts';
import type { Claims, EngineChange, EngineSnapshot, SnapshotToken, Status, StorageKind } from '../protocol/types.ts';
import type { StoredToken } from './TokenStore.ts';

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

export interface EngineState {
  readonly session: SessionState;
  /** The token cache, by cache key; only keys of the active session. */
  readonly tokens: ReadonlyMap<string, CacheEntry>;
  /** The freshest default token of each session, expired or not: the outage re-mint needs it. */
  readonly lastActive: ReadonlyMap<string, CacheEntry>;
  /** Sessions signed out here: discovery must not pick them again from the origin's answer. */
  readonly dismissed: ReadonlySet<string>;
  /** The origin is failing (network error, timeout, 5xx, 429): status `degraded`. */
  readonly failing: boolean;
  readonly storage: StorageKind;
  /** Derived from `session` and `failing`; kept so `since` moves only when it changes. */
  readonly status: Status;
  readonly since: number;
  /** Rises on every sign-out, session switch and close; work started under an older epoch is dropped. */
  readonly epoch: number;
  /** The version of the last published change. */
  readonly version: number;
  readonly closed: boolean;
}

export type Action =
  /** Storage was read at start: the active session and its tokens. */
  | { readonly type: 'restore'; readonly sessionId: string; readonly userId: string | null; readonly entries: readonly (readonly [string, CacheEntry])[]; readonly lastActive: CacheEntry | null }
  /** A minted token for `key`, from a mint started under `epoch`. */
  | { readonly type: 'token'; readonly key: string; readonly entry: CacheEntry; readonly epoch: number }
  | { readonly type: 'evict'; readonly key: string }
  /**
   * The active session becomes `sessionId` (a switch or a discovery; not a sign-out). For the
   * session already active it only names its user, when `userId` is given.
   */
  | { readonly type: 'session'; readonly sessionId: string; readonly userId: string | null }
  /** The session is gone: its tokens are dropped everywhere, its waiters get null. `dismiss`: signed out here. */
  | { readonly type: 'signout'; readonly sessionId: string; readonly dismiss: boolean }
  /** The origin answered that nobody is signed in. */
  | { readonly type: 'no-session' }
  | { readonly type: 'outage'; readonly failing: boolean }
  | { readonly type: 'storage'; readonly storage: StorageKind }
  | { readonly type: 'close' };

/** One storage write, queued in the order state changed. */
export type StoreWrite =
  | { readonly op: 'setToken'; readonly key: string; readonly token: StoredToken }
  | { readonly op: 'deleteToken'; readonly key: string }
  | { readonly op: 'setLastActive'; readonly sessionId: string; readonly jwt: string }
  | { readonly op: 'setActiveSession'; readonly session: { readonly sessionId: string; readonly userId: string | null } | null }
  | { readonly op: 'clearSession'; readonly sessionId: string };

/** Which mints in flight a transition settles, and how. */
export type Settle =
  /** The session switched: callers of another session's key are served the new session's token. */
  | { readonly flights: 'not-of-session'; readonly sessionId: string; readonly outcome: 'redirect' }
  /** The session ended: its callers resolve null (signed out is not an error). */
  | { readonly flights: 'of-session'; readonly sessionId: string; readonly outcome: 'null' }
  | { readonly flights: 'all'; readonly outcome: 'closed' };

export type Effect =
  | { readonly type: 'persist'; readonly write: StoreWrite }
  | ({ readonly type: 'settle' } & Settle)
  /** The session is known (active or signed out): callers waiting for one go on. */
  | { readonly type: 'release-session-waiters' }
  /** The engine closed: stop timers, abort requests, fail every waiting caller. */
  | { readonly type: 'stop' };

export interface Transition {
  readonly state: EngineState;
  /** In order, with rising versions; published after the effects ran. */
  readonly changes: readonly EngineChange[];
  readonly effects: readonly Effect[];
}

/** The state of a new engine at `now`. */
export function initialState(storage: StorageKind, now: number): EngineState {
  return {
    session: { kind: 'unknown' },
    tokens: new Map(),
    lastActive: new Map(),
    dismissed: new Set(),
    failing: false,
    storage,
    status: 'connecting',
    since: now,
    epoch: 0,
    version: 0,
    closed: false,
  };
}

/** The active session's id, or null. */
export function activeSessionId(state: EngineState): string | null {
  return state.session.kind === 'active' ? state.session.sessionId : null;
}

/** What `status` the session and the outage imply (SPEC 2, 5). */
export function statusOf(session: SessionState, failing: boolean): Status {
  if (session.kind === 'active') return failing ? 'degraded' : 'ok';
  if (session.kind === 'signed-out') return 'signed-out';
  return failing ? 'degraded' : 'connecting';
}

/** The snapshot every tab mirrors (without `mode`, which the transport adds). */
export function snapshotOf(state: EngineState): EngineSnapshot {
  const tokens: Record<string, SnapshotToken> = {};
  for (const [key, e] of state.tokens) tokens[key] = Object.freeze({ jwt: e.jwt, expiresAt: e.expiresAt, staleAt: e.staleAt, ...(e.scheme && { scheme: e.scheme }) });
  return Object.freeze({
    version: state.version,
    status: state.status,
    storage: state.storage,
    sessionId: activeSessionId(state),
    userId: state.session.kind === 'active' ? state.session.userId : null,
    claims: state.session.kind === 'active' ? state.session.claims : null,
    tokens: Object.freeze(tokens),
  });
}
