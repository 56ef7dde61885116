/**
 * Remembers which keys this tab read (with the largest leeway asked for each) and reports them to
 * the engine in one message at most once per poll interval; also rate-limits background-refresh
 * asks to one per key per poll interval. Both run on the hot path, so a read that changes
 * nothing costs one Map lookup.
 */
import type { Clock } from '../protocol/clock.ts';
import type { ReadReport, TokenRequest } from '../protocol/types.ts';

export interface ReadTracker {
  /** Notes a read of `key`; reported with the next batch. */
  read(key: string, request: TokenRequest): void;
  /** Whether this tab may ask for a background refresh of `key` now (once per poll interval). */
  mayAsk(key: string, now: number): boolean;
  /** Stops the report timer; reads not reported yet go with the report the next read starts. */
  close(): void;
}

/**
 * @example
 * const tracker = createReadTracker(5000, (reads) => worker.noteReads(reads), systemClock);
 * tracker.read(key, request); // reported at once, later reads at most every 5 s
 */
export function createReadTracker(intervalMs: number, send: (reads: ReadReport[]) => void, clock: Clock): ReadTracker {
  let pending = new Map<string, TokenRequest>();
  let timer: unknown;
  let lastFlush = -Infinity;
  const asked = new Map<string, number>();
  const flush = () => {
    timer = undefined;
    lastFlush = clock.now();
    const reads = [...pending].map(([key, request]) => ({ key, request }));
    pending = new Map();
    if (reads.length > 0) send(reads);
  };
  return {
    read(key, request) {
      if ((pending.get(key)?.leewayInSeconds ?? -1) >= request.leewayInSeconds) return;
      pending.set(key, request);
      // The first read after a report goes out at once; later ones wait for the interval.
      timer ??= clock.setTimeout(flush, Math.max(0, lastFlush + intervalMs - clock.now()));
    },
    mayAsk(key, now) {
      if (now - (asked.get(key) ?? -Infinity) < intervalMs) return false;
      asked.set(key, now);
      return true;
    },
    // Also while the page is stored or frozen (SPEC 6): the next read arms the timer again.
    close() {
      clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
