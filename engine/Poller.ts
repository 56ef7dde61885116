import type { Clock } from '../protocol/clock.ts';

/**
 * The refresh poller's timer (SPEC 4): ONE timer, every poll interval while at least one tab is
 * connected. What a tick does is the engine's business (`onTick`); which keys are due is decided
 * by refreshPlan.ts.
 *
 * The timer is a chain of `setTimeout`s rather than an interval because the clock interface has
 * only `setTimeout`, and because a tick that takes long must not stack up behind itself.
 *
 * @example
 * const poller = new Poller({ clock, intervalMs: 5000, onTick: () => engine.tick() });
 * poller.setActive(true);
 */
export class Poller {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #onTick: () => void;
  #timer: unknown = null;
  #active = false;
  #closed = false;

  constructor(deps: { clock: Clock; intervalMs: number; onTick: () => void }) {
    this.#clock = deps.clock;
    this.#intervalMs = deps.intervalMs;
    this.#onTick = deps.onTick;
  }

  /** Starts (true) or stops (false) the timer; idempotent, so there is never a second timer. */
  setActive(active: boolean): void {
    if (this.#closed || active === this.#active) return;
    this.#active = active;
    if (active) this.#schedule();
    else this.#cancel();
  }

  close(): void {
    this.#closed = true;
    this.#active = false;
    this.#cancel();
  }

  #schedule(): void {
    this.#cancel();
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      if (!this.#active) return;
      // Reschedule first: a tick that throws must not stop the poller.
      this.#schedule();
      this.#onTick();
    }, this.#intervalMs);
  }

  #cancel(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }
}
