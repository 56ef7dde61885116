import { MissingExpiredTokenError } from '../protocol/errors.ts';
import { staleAt } from '../protocol/freshness.ts';
import type { EngineContext } from './EngineContext.ts';
import type { Flight } from './Flight.ts';
import type { MintTable } from './MintTable.ts';
import type { MintedToken } from './TokenOrigin.ts';

/** What one attempt needs besides the context: where flights live and what the poller leaves alone. */
export interface AttemptDeps {
  readonly mints: MintTable;
  /** After an error that is not retried, the poller leaves the key alone until it is read again. */
  block(key: string): void;
  /** Whether a flight that failed with an outage is still worth retrying. */
  wanted(flight: Flight): boolean;
}

/**
 * One mint attempt of a flight (SPEC 5): the request, in outage mode one re-mint with the
 * lastActiveToken, then what the answer means — a token for the cache and every waiter, a
 * sign-out, an outage (retried behind the backoff), or an error for the waiters.
 *
 * @example
 * const mints = new MintTable(ctx, (flight) => attemptMint(flight, ctx, deps));
 */
export async function attemptMint(flight: Flight, ctx: EngineContext, deps: AttemptDeps): Promise<void> {
  let minted: MintedToken;
  try {
    minted = await mintWithOutageFallback(flight, ctx);
  } catch (error) {
    failed(flight, error, ctx, deps);
    return;
  }
  // A response that lands after the session it was minted for is gone is dropped:
  //
  //   getToken ──mint (epoch 3)─────────────────────────▶ 200 { jwt }   dropped: epoch is now 4
  //            signOut() ─▶ epoch 4, tokens evicted, waiters resolved null, storage cleared
  //
  // Without the epoch the late token would be cached and published after the sign-out, and a tab
  // would return a token of a session the user just left. (The reducer drops it as well.)
  if (isStale(flight, ctx)) return;
  ctx.originAnswered();
  const entry = { ...minted, staleAt: staleAt(minted.expiresAt) };
  ctx.dispatch({ type: 'token', key: flight.key, entry, epoch: flight.epoch });
  deps.mints.finish(flight);
  // The waiters get the token the cache now holds: the one just minted, unless the cache already
  // had a fresher one (SPEC 4 freshness rule) — and even when it is shorter-lived than the cutoff.
  flight.resolve(ctx.state().tokens.get(flight.key)?.jwt ?? minted.jwt);
}

const isStale = (flight: Flight, ctx: EngineContext): boolean => flight.epoch !== ctx.state().epoch || ctx.state().closed;

/**
 * One mint, and in outage mode (SPEC 5, seed 003) one retry with the lastActiveToken:
 *
 *   POST tokens ─▶ 422 missing_expired_token ─▶ POST tokens?expired_token=<lastActive> ─▶ 200
 */
async function mintWithOutageFallback(flight: Flight, ctx: EngineContext): Promise<MintedToken> {
  try {
    return await ctx.origin.mint(flight.sessionId, flight.target, null);
  } catch (error) {
    if (ctx.origin.classify(error) !== 'missing-expired-token' || flight.epoch !== ctx.state().epoch) throw error;
    const last = ctx.state().lastActive.get(flight.sessionId);
    // The re-mint is a request like any other: a Retry-After that another key met holds it too.
    if (last) await ctx.outage.whenOpen();
    if (!last) throw new MissingExpiredTokenError('The origin, in outage mode, asked for the last token of the session, and none is known', { cause: error });
    return await ctx.origin.mint(flight.sessionId, flight.target, last.jwt);
  }
}

function failed(flight: Flight, error: unknown, ctx: EngineContext, deps: AttemptDeps): void {
  // Already settled by a sign-out or a switch: nobody is left to tell.
  if (isStale(flight, ctx)) return;
  flight.lastError = error;
  switch (ctx.origin.classify(error)) {
    case 'signout':
      ctx.dispatch({ type: 'signout', sessionId: flight.sessionId, dismiss: false });
      return;
    case 'outage':
      ctx.originFailed(error);
      // Waiters keep waiting (each until its own deadline); the flight retries when the gate opens.
      if (deps.wanted(flight)) deps.mints.park(flight);
      else deps.mints.finish(flight);
      return;
    default:
      // Not retried (SPEC 5): the waiters get the error, the previous token stays, and the poller
      // leaves the key alone until someone reads it again.
      deps.mints.finish(flight);
      deps.block(flight.key);
      if (flight.waiterCount === 0) ctx.report(error);
      flight.reject(error);
  }
}
