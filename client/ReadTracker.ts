/**
 * Remembers which keys this tab read (with the largest leeway asked for each) and reports them to
 * the engine in one message at most once per poll interval; also rate-limits background-refresh
 * asks to one per key per poll interval. Both run on the hot path, so a read that changes
 * nothing costs one Map lookup.
 */
import type { ReadReport, TokenRequest } from '../protocol/types.ts';

export class ReadTracker {
  readonly #intervalMs: number;
  readonly #send: (reads: ReadReport[]) => void;
  #pending = new Map<string, TokenRequest>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  readonly #asked = new Map<string, number>();

  constructor(intervalMs: number, send: (reads: ReadReport[]) => void) {
    this.#intervalMs = intervalMs;
    this.#send = send;
  }

  read(key: string, request: TokenRequest): void {
    const seen = this.#pending.get(key);
    if (seen && seen.leewayInSeconds >= request.leewayInSeconds) return;
    this.#pending.set(key, request);
    // The first read after a report goes out at once; later ones wait for the interval.
    this.#timer ??= setTimeout(() => this.#flush(), this.#timerDelay());
  }

  /** Whether this tab may ask for a background refresh of `key` now (once per poll interval). */
  mayAsk(key: string, now: number): boolean {
    const last = this.#asked.get(key);
    if (last !== undefined && now - last < this.#intervalMs) return false;
    this.#asked.set(key, now);
    return true;
  }

  close(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #lastFlush = 0;
  #timerDelay(): number {
    return Math.max(0, this.#lastFlush + this.#intervalMs - Date.now());
  }

  #flush(): void {
    this.#timer = null;
    this.#lastFlush = Date.now();
    const reads = [...this.#pending].map(([key, request]) => ({ key, request }));
    this.#pending = new Map();
    if (reads.length > 0) this.#send(reads);
  }
}
