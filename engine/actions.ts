/**
 * What reaches the reducer (actions: the calls of tabs and the results of the world) and what it
 * asks of the world (effects). Plain data both ways: a test of the engine's logic is a list of
 * actions and the effects expected, with no timers and no network.
 */
import type { EngineChange, TokenRequest } from '../protocol/types.ts';
import type { CacheEntry } from './state.ts';
import type { FailureKind, MintTarget, MintedToken, SessionsAnswer, SignInResult } from './TokenOrigin.ts';
import type { StoredSession } from './TokenStore.ts';

/** What storage held at start, read back without network (Persister.ts). */
export interface Restored {
  readonly sessionId: string;
  readonly userId: string | null;
  readonly entries: readonly (readonly [string, CacheEntry])[];
  readonly lastActive: CacheEntry | null;
}

/** A failed request as the world reports it: the error, what it means, and a draw for the backoff's jitter. */
interface Failure {
  readonly error: unknown;
  readonly kind: FailureKind;
  /** Uniform in [0, 1): the full jitter of the next backoff delay. */
  readonly random: number;
}

export type Action =
  /** The origin can be used: restore from storage, or look the session up. */
  | { readonly type: 'start' }
  /** Storage was read (null: nothing usable, or it failed). */
  | { readonly type: 'restored'; readonly stored: Restored | null }
  | { readonly type: 'storage-failed'; readonly error: unknown }
  /** `getToken`: call `id` waits at most until `deadline`. */
  | { readonly type: 'read'; readonly id: number; readonly request: TokenRequest; readonly deadline: number }
  /** A tab saw the token of `request` stale. */
  | { readonly type: 'refresh'; readonly request: TokenRequest }
  | { readonly type: 'reads'; readonly reads: readonly { readonly key: string; readonly request: TokenRequest }[] }
  | { readonly type: 'visible' }
  | { readonly type: 'tabs'; readonly count: number }
  /** The alarm rang: whatever is due at this moment. */
  | { readonly type: 'time' }
  /** A mint answered; `freshId` names a new session should the token start one. */
  | { readonly type: 'minted'; readonly id: number; readonly token: MintedToken; readonly freshId: string }
  | ({ readonly type: 'mint-failed'; readonly id: number } & Failure)
  /** A look-up answered (request `id`: a discovery, or the call it was made for). */
  | { readonly type: 'sessions'; readonly id: number; readonly answer: SessionsAnswer; readonly freshId: string }
  | ({ readonly type: 'sessions-failed'; readonly id: number } & Failure)
  | { readonly type: 'sync'; readonly id: number }
  /** `setActiveSession`: switch (after a look-up confirms the session) or sign out here (null). */
  | { readonly type: 'set-active'; readonly id: number; readonly sessionId: string | null }
  /** A tab's `sessionId` option: taken as given, re-checked in the background. */
  | { readonly type: 'use'; readonly sessionId: string }
  | { readonly type: 'sign-out'; readonly id: number }
  /**
   * A request made for call `id` finished: where the signing-out tab goes next was read (`value`,
   * before the sign-out), the session ended at the origin, the origin forgot a grant.
   */
  | { readonly type: 'done'; readonly id: number; readonly value?: unknown; readonly error: unknown }
  /** `handleRedirect` redeemed a sign-in: the new session and its first token, in one transition. */
  | { readonly type: 'signed-in'; readonly id: number; readonly result: SignInResult }
  | { readonly type: 'close' };

/** How a waiting call ends: with a value, or with an error. */
export type Outcome = { readonly value: unknown } | { readonly error: unknown };

export type Effect =
  | { readonly type: 'mint'; readonly id: number; readonly sessionId: string; readonly target: MintTarget; readonly expiredToken: string | null }
  | { readonly type: 'read-sessions'; readonly id: number }
  | { readonly type: 'end-session'; readonly id: number; readonly sessionId: string }
  | { readonly type: 'read-redirect'; readonly id: number; readonly sessionId: string }
  | { readonly type: 'forget'; readonly id: number; readonly sessionId: string }
  | { readonly type: 'restore' }
  /** What storage must now hold (null: nothing), written whole, in the order of the transitions. */
  | { readonly type: 'persist'; readonly session: StoredSession | null }
  /** The one timer: ring at `at` (local ms), or never (null). */
  | { readonly type: 'arm'; readonly at: number | null }
  | { readonly type: 'settle'; readonly id: number; readonly outcome: Outcome }
  /** A failure no caller receives: to the `error` event of every tab. */
  | { readonly type: 'report'; readonly error: unknown }
  /** The one change of the transition, for every tab. */
  | { readonly type: 'publish'; readonly change: EngineChange }
  | { readonly type: 'ready' }
  /** The engine closed: abort the requests in flight. */
  | { readonly type: 'stop' };

export interface Transition {
  readonly state: import('./state.ts').EngineState;
  readonly effects: readonly Effect[];
}
