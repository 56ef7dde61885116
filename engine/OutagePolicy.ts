import { OriginResponseError, OriginUnavailableError } from '../protocol/errors.ts';
import type { Clock } from '../protocol/clock.ts';
import type { RetryPolicy } from './RetryPolicy.ts';

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

/**
 * The origin-wide backoff (SPEC 5): one gate shared by every request to the origin, the last
 * failure, and the one timer that reopens the gate. Whether the origin is failing (`degraded`) is
 * engine state (engineState.ts); this holds only what decides *when* to try again.
 *
 * Why one gate for the whole origin rather than one per key: an origin that is down is down for
 * every key, and a 429's Retry-After speaks for the origin. Keys that fail together wait together
 * and come back in one wave when the gate opens; a failure that lands while the gate is already
 * closed does not push the backoff further, so N keys failing in one round count as one attempt:
 *
 * ```
 *   key A ──req──✗ 503            gate closed until t+d₀ (attempt 0 → 1)
 *   key B ──req─────✗ 503         gate already closed: no escalation
 *                        ···· t+d₀ ── A, B retried together
 * ```
 *
 * @example
 * const outage = new OutagePolicy({ clock, retry: new RetryPolicy(), onRetry: () => engine.drainRetries() });
 * outage.failure(error);  // the gate closes for a jittered delay
 * outage.isOpen();        // false until the delay has passed
 */
export class OutagePolicy {
  readonly #clock: Clock;
  readonly #retry: RetryPolicy;
  readonly #onRetry: () => void;
  #attempt = 0;
  #notBefore = 0;
  #lastError: unknown = null;
  #timer: unknown = null;
  #timerAt = 0;

  constructor(deps: { clock: Clock; retry: RetryPolicy; onRetry: () => void }) {
    this.#clock = deps.clock;
    this.#retry = deps.retry;
    this.#onRetry = deps.onRetry;
  }

  get lastError(): unknown {
    return this.#lastError;
  }

  /** Whether a request may be sent now. */
  isOpen(): boolean {
    return this.#clock.now() >= this.#notBefore;
  }

  /**
   * A retryable failure: closes the gate for the next backoff delay, unless it is already closed by
   * a failure of the same round (then only a longer Retry-After extends it).
   */
  failure(error: unknown): void {
    this.#lastError = error;
    const now = this.#clock.now();
    const retryAfter = error instanceof OriginResponseError ? error.retryAfter : null;
    if (now >= this.#notBefore) {
      this.#notBefore = now + this.#retry.delayMs(this.#attempt, retryAfter);
      this.#attempt++;
    } else if (retryAfter !== null) {
      this.#notBefore = Math.max(this.#notBefore, now + this.#retry.delayMs(0, retryAfter));
    }
    this.#arm();
  }

  /** A request succeeded: the origin is back, the backoff starts over. */
  success(): void {
    this.#lastError = null;
    this.#attempt = 0;
    this.#notBefore = 0;
    this.#disarm();
  }

  /** Resolves once a request may be sent (at once when the gate is open). */
  whenOpen(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): unknown => (this.isOpen() ? resolve() : this.#clock.setTimeout(check, this.#notBefore - this.#clock.now()));
      check();
    });
  }

  /** Someone is waiting for the gate: make sure the timer that reopens it is set. */
  wake(): void {
    if (!this.isOpen()) this.#arm();
  }

  close(): void {
    this.#disarm();
  }

  #arm(): void {
    if (this.#timer !== null && this.#timerAt === this.#notBefore) return;
    this.#disarm();
    this.#timerAt = this.#notBefore;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      this.#onRetry();
    }, Math.max(0, this.#notBefore - this.#clock.now()));
  }

  #disarm(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }
}
