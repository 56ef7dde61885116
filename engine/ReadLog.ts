import { READ_WINDOW_MS } from '../protocol/constants.ts';
import type { Clock } from '../protocol/clock.ts';
import type { TokenRequest } from '../protocol/types.ts';

/** A key tabs have read, with the largest leeway asked for it. */
export interface TrackedRead {
  readonly key: string;
  readonly request: TokenRequest;
  /** Largest leeway (seconds) reported while the key stayed in the read window. */
  readonly leewayS: number;
  readonly lastReadAt: number;
}

/**
 * Which keys tabs have read in the last 10 minutes (SPEC 4), with the largest leeway reported for
 * each: what the poller keeps fresh. Keys whose refresh failed with an error that is not retried
 * are blocked until someone reads them again, so a key nobody can mint is not retried every tick.
 *
 * @example
 * const reads = new ReadLog(clock);
 * reads.note('sess_1|||', request);
 * reads.leewayOf('sess_1|||'); // 15
 */
export class ReadLog {
  readonly #clock: Clock;
  readonly #reads = new Map<string, TrackedRead>();
  readonly #blocked = new Set<string>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Records a read of `key` now; a larger leeway than any reported in the window is kept. */
  note(key: string, request: TokenRequest): void {
    const now = this.#clock.now();
    const seen = this.#reads.get(key);
    this.#blocked.delete(key);
    const inWindow = seen !== undefined && now - seen.lastReadAt <= READ_WINDOW_MS;
    this.#reads.set(key, {
      key,
      request: inWindow ? seen.request : { ...request, skipCache: false },
      leewayS: inWindow ? Math.max(seen.leewayS, request.leewayInSeconds) : request.leewayInSeconds,
      lastReadAt: inWindow ? Math.max(seen.lastReadAt, now) : now,
    });
  }

  /** The largest leeway reported for a key still in the window, or null. */
  leewayOf(key: string): number | null {
    const seen = this.#reads.get(key);
    return seen && this.#clock.now() - seen.lastReadAt <= READ_WINDOW_MS ? seen.leewayS : null;
  }

  /** Keys read within the window that are not blocked (older ones are forgotten here). */
  live(): TrackedRead[] {
    const now = this.#clock.now();
    const out: TrackedRead[] = [];
    for (const [key, seen] of this.#reads) {
      if (now - seen.lastReadAt > READ_WINDOW_MS) {
        this.#reads.delete(key);
        this.#blocked.delete(key);
      } else if (!this.#blocked.has(key)) {
        out.push(seen);
      }
    }
    return out;
  }

  /** After a refresh failed with an error that is not retried: skip the key until it is read again. */
  block(key: string): void {
    this.#blocked.add(key);
  }

  isBlocked(key: string): boolean {
    return this.#blocked.has(key);
  }
}
