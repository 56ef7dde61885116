import { BACKOFF_CAP_MS, BACKOFF_FACTOR, BACKOFF_FIRST_MS, RETRY_AFTER_MAX_MS } from '../protocol/constants.ts';

/**
 * Exponential backoff with full jitter (SPEC 5): attempt n waits a uniformly random time in
 * `[0, min(cap, first · factor^n))`. Full jitter rather than a fixed ladder because every tab of
 * every user of a recovering origin would otherwise come back on the same beat.
 *
 * @example
 * const retry = new RetryPolicy(Math.random);
 * retry.delayMs(0, null);   // somewhere in [0, 1000)
 * retry.delayMs(3, 20);     // at least 20 s: the origin's Retry-After wins over a shorter jitter
 */
export class RetryPolicy {
  readonly #random: () => number;

  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  /** The ceiling of attempt `attempt` (0-based): first · factor^attempt, capped. */
  static ceilingMs(attempt: number): number {
    // Exponent capped so a very long outage never overflows to Infinity.
    return Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * BACKOFF_FACTOR ** Math.min(attempt, 32));
  }

  /**
   * How long to wait before retry `attempt`. A `Retry-After` (seconds) is a floor: the origin said
   * not to come back earlier; it is honoured up to five minutes so a misconfigured header cannot
   * park the worker for a day.
   */
  delayMs(attempt: number, retryAfterSeconds: number | null): number {
    const r = this.#random();
    const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0.5;
    const jitter = Math.floor(unit * RetryPolicy.ceilingMs(attempt));
    if (retryAfterSeconds === null || !Number.isFinite(retryAfterSeconds)) return jitter;
    const asked = Math.min(Math.max(0, retryAfterSeconds * 1000), RETRY_AFTER_MAX_MS);
    return Math.max(asked, jitter);
  }
}
