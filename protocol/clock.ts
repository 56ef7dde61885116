/**
 * The one source of time and timers for the engine and for the tab's own timers (read reports,
 * connection supervision, leader election, rpc resend). Nothing calls `Date.now()` or
 * `setTimeout` directly, so unit tests can run a whole outage, a backoff of minutes or a
 * ten-minute read window on fake time in milliseconds.
 */
export interface Clock {
  /** Milliseconds since the epoch on this machine's clock (may be hours off the origin's). */
  now(): number;
  /** Schedules `fn` once after `ms`; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock of the page or worker.
 *
 * @example
 * const engine = new TokenEngine(config, { clock: systemClock, origin, store: null });
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};
