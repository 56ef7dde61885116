import { READ_WINDOW_MS } from '../protocol/constants.ts';
import type { TokenRequest } from '../protocol/types.ts';
import type { Clock } from './Clock.ts';

/** A key tabs have read, with the largest leeway asked for it. */
export interface TrackedRead {
  readonly key: string;
  readonly request: TokenRequest;
  /** Largest leeway (seconds) reported since the key was last forgotten. */
  readonly leewayS: number;
  readonly lastReadAt: number;
}

interface ReadState {
  key: string;
  request: TokenRequest;
  leewayS: number;
  lastReadAt: number;
}

/**
 * The refresh poller (SPEC 4): ONE timer, every poll interval while at least one tab is connected,
 * plus the record of which keys tabs have read. What a tick does is the engine's business
 * (`onTick`); which read keys are due is decided here: read within the last 10 minutes and with
 * at most the largest reported leeway left.
 *
 * The timer is a chain of `setTimeout`s rather than an interval because the clock interface has
 * only `setTimeout`, and because a tick that takes long must not stack up behind itself.
 *
 * @example
 * const poller = new Poller({ clock, intervalMs: 5000, onTick: () => engine.tick() });
 * poller.setActive(true);
 * poller.note('sess_1|||', request);
 */
export class Poller {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #onTick: () => void;
  readonly #reads = new Map<string, ReadState>();
  /** Keys whose refresh failed with an error that is not retried: left alone until read again. */
  readonly #blocked = new Set<string>();
  #timer: unknown = null;
  #active = false;
  #closed = false;

  constructor(deps: { clock: Clock; intervalMs: number; onTick: () => void }) {
    this.#clock = deps.clock;
    this.#intervalMs = deps.intervalMs;
    this.#onTick = deps.onTick;
  }

  get active(): boolean {
    return this.#active;
  }

  /** Starts (true) or stops (false) the timer; idempotent, so there is never a second timer. */
  setActive(active: boolean): void {
    if (this.#closed || active === this.#active) return;
    this.#active = active;
    if (active) this.#schedule();
    else this.#cancel();
  }

  /** Records a read of `key` now; a larger leeway than any reported before is kept. */
  note(key: string, request: TokenRequest): void {
    const now = this.#clock.now();
    const state = this.#reads.get(key);
    this.#blocked.delete(key);
    if (state && now - state.lastReadAt <= READ_WINDOW_MS) {
      state.leewayS = Math.max(state.leewayS, request.leewayInSeconds);
      state.lastReadAt = Math.max(state.lastReadAt, now);
      return;
    }
    this.#reads.set(key, { key, request: { ...request, skipCache: false }, leewayS: request.leewayInSeconds, lastReadAt: now });
  }

  /** The largest leeway reported for a key still in the window, or null. */
  leewayOf(key: string): number | null {
    const state = this.#reads.get(key);
    return state && this.#clock.now() - state.lastReadAt <= READ_WINDOW_MS ? state.leewayS : null;
  }

  /** Keys read within the window (older ones are forgotten here). */
  reads(): TrackedRead[] {
    const now = this.#clock.now();
    const out: TrackedRead[] = [];
    for (const [key, state] of this.#reads) {
      if (now - state.lastReadAt > READ_WINDOW_MS) {
        this.#reads.delete(key);
        this.#blocked.delete(key);
        continue;
      }
      out.push({ key, request: state.request, leewayS: state.leewayS, lastReadAt: state.lastReadAt });
    }
    return out;
  }

  /**
   * Read keys due for a refresh: `remainingMs(key)` (null when nothing is cached) is within the
   * largest leeway reported for the key. Keys with nothing cached are left to the tab that reads
   * them: a key whose mint failed must not be retried every tick without anyone asking.
   */
  due(remainingMs: (key: string) => number | null): TrackedRead[] {
    return this.reads().filter((read) => {
      if (this.#blocked.has(read.key)) return false;
      const remaining = remainingMs(read.key);
      return remaining !== null && remaining <= read.leewayS * 1000;
    });
  }

  /** After a refresh failed with an error that is not retried: skip the key until it is read again. */
  block(key: string): void {
    this.#blocked.add(key);
  }

  isBlocked(key: string): boolean {
    return this.#blocked.has(key);
  }

  forget(key: string): void {
    this.#reads.delete(key);
    this.#blocked.delete(key);
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
