import type { Clock } from '../../../protocol/clock.ts';

interface Timer {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
}

/** Lets promise callbacks and already-resolved I/O run (a few macrotask turns). */
export async function flush(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A clock the test moves by hand. Only the engine's time is fake: sockets, the development origin
 * and jose keep real time, exactly as a browser whose clock is off would see them.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, Timer>();

  constructor(start = Date.UTC(2031, 0, 1, 12, 0, 0)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.#timers.delete(handle);
  }

  /** Timers scheduled and not yet run or cleared. */
  get pending(): number {
    return this.#timers.size;
  }

  /** When each pending timer is due, relative to now (sorted). */
  pendingDelays(): number[] {
    return [...this.#timers.values()].map((t) => t.at - this.#now).sort((a, b) => a - b);
  }

  /**
   * Moves time forward by `ms`, running every timer that falls due in order, and letting promise
   * work settle after each one (so a timer that starts a request sees its response land first).
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flush();
    for (;;) {
      const next = [...this.#timers.values()].filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.#timers.delete(next.id);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      await flush();
    }
    this.#now = target;
    await flush();
  }

  /** Jumps the clock without running timers (a laptop waking up, a clock being set). */
  set(now: number): void {
    this.#now = now;
  }
}

/**
 * Waits (in real time: crypto and sockets are real) until `check` returns a truthy value or stops
 * throwing; fails after `timeoutMs`.
 */
export async function until<T>(check: () => T | Promise<T>, timeoutMs = 3000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = new Error(`condition still false: ${String(check)}`);
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw last;
    await new Promise<void>((resolve) => setTimeout(resolve, 2));
  }
}
