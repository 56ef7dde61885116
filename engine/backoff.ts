/**
 * The origin-wide backoff gate (SPEC 5), as pure functions of the gate, the time and a random draw:
 * one gate for every request to the origin, exponential with full jitter (first 1 s, factor 2, cap
 * 30 s), `Retry-After` honoured as a floor up to 5 minutes.
 *
 * Why one gate rather than one per key: an origin that is down is down for every key, and a 429's
 * Retry-After speaks for the origin. Keys that fail together wait together and come back in one
 * wave; a failure that lands while the gate is already closed does not push the backoff further,
 * so N keys failing in one round count as one attempt:
 *
 * ```
 *   key A ──req──✗ 503            gate closed until t+d₀ (attempt 0 → 1)
 *   key B ──req─────✗ 503         gate already closed: no escalation
 *                        ···· t+d₀ ── A, B retried together
 * ```
 *
 * Full jitter rather than a fixed ladder, because every tab of every user of a recovering origin
 * would otherwise come back on the same beat.
 */
import { BACKOFF_CAP_MS, BACKOFF_FACTOR, BACKOFF_FIRST_MS, RETRY_AFTER_MAX_MS } from '../protocol/constants.ts';
import { OriginResponseError, OriginUnavailableError } from '../protocol/errors.ts';
import type { Gate } from './state.ts';

/** The ceiling of attempt `attempt` (0-based): first · factor^attempt, capped. */
export function ceilingMs(attempt: number): number {
  // Exponent capped so a very long outage never overflows to Infinity.
  return Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * BACKOFF_FACTOR ** Math.min(attempt, 32));
}

/**
 * How long to wait before retry `attempt`, for a draw `u` in [0, 1). A `Retry-After` (seconds) is a
 * floor: the origin said not to come back earlier; honoured up to five minutes so a misconfigured
 * header cannot park the worker for a day.
 *
 * @example
 * delayMs(0, null, 0.5); // 500
 * delayMs(3, 20, 0.1);   // 20000: the origin's Retry-After wins over a shorter jitter
 */
export function delayMs(attempt: number, retryAfterSeconds: number | null, u: number): number {
  const unit = Number.isFinite(u) ? Math.min(Math.max(u, 0), 1) : 0.5;
  const jitter = Math.floor(unit * ceilingMs(attempt));
  if (retryAfterSeconds === null || !Number.isFinite(retryAfterSeconds)) return jitter;
  return Math.max(Math.min(Math.max(0, retryAfterSeconds * 1000), RETRY_AFTER_MAX_MS), jitter);
}

/** Whether a request may be sent at `now`. */
export const isOpen = (gate: Gate, now: number): boolean => now >= gate.notBefore;

/**
 * The gate after a retryable failure at `now`: closed for the next backoff delay, unless it is
 * already closed by a failure of the same round (then only a longer Retry-After extends it).
 */
export function failed(gate: Gate, error: unknown, now: number, u: number): Gate {
  const retryAfter = error instanceof OriginResponseError ? error.retryAfter : null;
  if (isOpen(gate, now)) return { attempt: gate.attempt + 1, notBefore: now + delayMs(gate.attempt, retryAfter, u), lastError: error };
  const notBefore = retryAfter === null ? gate.notBefore : Math.max(gate.notBefore, now + delayMs(0, retryAfter, u));
  return { attempt: gate.attempt, notBefore, lastError: error };
}

/** The gate after a success: the origin is back, the backoff starts over. */
export const OPEN: Gate = Object.freeze({ attempt: 0, notBefore: 0, lastError: null });

/**
 * The error a caller gets when it waited out an outage. `why` says what the call needed from the
 * origin (`skipCache` asked for a new token, nothing usable is cached, the session is not known
 * yet). The tab sees only the message (a `cause` does not cross to it), so the message carries the
 * last failure too — a refused CORS request and a server that is down read differently there.
 */
export function unavailableAfter(lastError: unknown, why: string): OriginUnavailableError {
  const detail = lastError instanceof Error && lastError.message ? `. Last failure: ${lastError.message}` : '';
  return new OriginUnavailableError(`The token origin could not be reached and ${why}${detail}`, { cause: lastError ?? undefined });
}
