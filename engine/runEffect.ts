/**
 * The runners: each carries out one kind of effect (engine/actions.ts) and reports what came of it
 * as an action. They decide nothing — what a failure means is the reducer's business; a runner
 * only says what happened (and, for a failure, what the origin makes of it and a draw for the
 * backoff's jitter).
 */
import { randomId } from '../protocol/randomId.ts';
import type { Clock } from '../protocol/clock.ts';
import type { EngineChange } from '../protocol/types.ts';
import type { Action, Effect, Outcome } from './actions.ts';
import type { Persister } from './Persister.ts';
import type { TokenOrigin } from './TokenOrigin.ts';

/** What the runners are given: the world, and the way back into the engine. */
export interface Runners {
  readonly clock: Clock;
  readonly origin: TokenOrigin;
  readonly persister: Persister;
  /** Draws in [0, 1) for the backoff's jitter. */
  readonly random: () => number;
  /** Feeds a result back; called asynchronously, never while a transition runs. */
  dispatch(action: Action): void;
  /** Resolves or rejects the promise of call `id`. */
  settle(id: number, outcome: Outcome): void;
  publish(change: EngineChange): void;
  report(error: unknown): void;
  ready(): void;
  /** The one alarm timer (arm replaces it). */
  alarm: { handle: unknown };
}

/** A failure as the reducer wants it: the error, what the origin makes of it, a draw. */
const failure = (r: Runners, error: unknown) => ({ error, kind: r.origin.classify(error), random: r.random() });

/**
 * @example
 * for (const effect of transition.effects) runEffect(effect, runners);
 */
export function runEffect(effect: Effect, r: Runners): void {
  const { origin } = r;
  switch (effect.type) {
    case 'mint': {
      const { id } = effect;
      origin.mint(effect.sessionId, effect.target, effect.expiredToken).then(
        (token) => r.dispatch({ type: 'minted', id, token, freshId: `s_${randomId()}` }),
        (error: unknown) => r.dispatch({ type: 'mint-failed', id, ...failure(r, error) }),
      );
      return;
    }
    case 'read-sessions': {
      const { id } = effect;
      origin.readSessions().then(
        (answer) => r.dispatch({ type: 'sessions', id, answer, freshId: `s_${randomId()}` }),
        (error: unknown) => r.dispatch({ type: 'sessions-failed', id, ...failure(r, error) }),
      );
      return;
    }
    case 'end-session':
      return done(r, effect.id, origin.endSession(effect.sessionId));
    case 'forget':
      return done(r, effect.id, origin.forget?.(effect.sessionId));
    case 'read-redirect':
      return done(r, effect.id, origin.signOutRedirect?.(effect.sessionId));
    case 'restore':
      void r.persister.read(origin).then(
        (stored) => r.dispatch({ type: 'restored', stored }),
        (error: unknown) => {
          r.dispatch({ type: 'storage-failed', error });
          r.dispatch({ type: 'restored', stored: null });
        },
      );
      return;
    case 'persist':
      r.persister.write(effect.session, (error) => r.dispatch({ type: 'storage-failed', error }));
      return;
    case 'arm': {
      r.clock.clearTimeout(r.alarm.handle);
      const { at } = effect;
      r.alarm.handle = at === null ? null : r.clock.setTimeout(() => r.dispatch({ type: 'time' }), Math.max(0, at - r.clock.now()));
      return;
    }
    case 'settle':
      return r.settle(effect.id, effect.outcome);
    case 'publish':
      return r.publish(effect.change);
    case 'report':
      return r.report(effect.error);
    case 'ready':
      return r.ready();
    case 'stop':
      r.clock.clearTimeout(r.alarm.handle);
      origin.abortAll();
      return;
  }
}

function done(r: Runners, id: number, work: Promise<unknown> | undefined): void {
  Promise.resolve(work).then(
    (value) => r.dispatch({ type: 'done', id, value, error: null }),
    (error: unknown) => r.dispatch({ type: 'done', id, error }),
  );
}
