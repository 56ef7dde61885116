import type { Clock } from '../protocol/clock.ts';
import type { Action, EngineState } from './engineState.ts';
import type { OutagePolicy } from './OutagePolicy.ts';
import type { TokenOrigin } from './TokenOrigin.ts';

/**
 * What the engine's parts share: the clock, the origin, the backoff, the current state and the one
 * way to change it. Parts read `state()` and `dispatch` actions; none of them writes state.
 */
export interface EngineContext {
  readonly clock: Clock;
  readonly origin: TokenOrigin;
  readonly outage: OutagePolicy;
  state(): EngineState;
  dispatch(action: Action): void;
  /** A failure no caller receives: to the `error` listeners. */
  report(error: unknown): void;
  /** A request reached the origin: a failing origin is back (status, backoff, parked work). */
  originAnswered(): void;
  /** A retryable failure: the backoff gate closes and the status says `degraded`. */
  originFailed(error: unknown): void;
}
