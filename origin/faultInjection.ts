/**
 * What the fault controls do to the frontend token routes: added latency, injected errors, and the
 * two outage modes. The controls themselves (`/__origin/*`) are in `faultRoutes.ts`.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Session } from './OriginState.ts';
import { OriginHttpError } from './OriginHttpError.ts';
import type { OriginContext } from './routes.ts';

/**
 * Waits the configured latency, then fails with the configured status with probability
 * `errorRate`. A 429 carries `Retry-After: 1` so clients exercise their Retry-After handling.
 */
export async function injectFaults(ctx: OriginContext, random: () => number = Math.random): Promise<void> {
  const { latencyMs } = ctx.state.faults;
  if (latencyMs > 0) await delay(latencyMs);
  // Read again after the wait: a test may have changed the faults meanwhile.
  const { errorRate, status } = ctx.state.faults;
  if (errorRate > 0 && random() < errorRate) {
    throw new OriginHttpError(
      status,
      status === 429 ? 'too_many_requests' : 'injected_fault',
      `Injected fault: ${status}`,
      'The development origin answered with an error because POST /__origin/faults asked it to.',
      status === 429 ? { 'Retry-After': '1' } : {},
    );
  }
}

/** Outage mode `down`: every token route answers 503. */
export function requireOriginUp(ctx: OriginContext): void {
  if (ctx.state.outage === 'down') {
    throw new OriginHttpError(503, 'service_unavailable', 'The token origin is down', 'The development origin is in outage mode "down" (POST /__origin/outage).');
  }
}

/**
 * Outage mode `missing_expired_token` (seed 003): the origin can mint only from the last token the
 * client holds. The `expired_token` query must be a token this origin signed for this session —
 * expired or not; the caller has already checked the cookie and the session. Returns the `oiat`
 * the new token keeps.
 */
export async function requireExpiredToken(ctx: OriginContext, url: URL, session: Session): Promise<number> {
  const raw = url.searchParams.get('expired_token');
  const verified = raw ? await ctx.signer.verifySignature(raw) : null;
  if (verified && verified.payload.sid === session.id && verified.oiat !== null) return verified.oiat;
  throw new OriginHttpError(
    422,
    'missing_expired_token',
    'Missing expired token',
    raw
      ? 'The expired_token query parameter is not a token this origin signed for this session.'
      : 'The origin is in outage mode: retry with the last active token of this session in the expired_token query parameter.',
  );
}
