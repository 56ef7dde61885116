/**
 * The tabs the demo knows to be open, from their reports on the demo channel. A tab that closes
 * says goodbye on `pagehide`; one that dies without a word (a crash, a killed process) is dropped
 * once it has been silent for `timeoutMs`.
 */
import type { TabReport } from './demoMessages.ts';

/** How long a tab may stay silent before its tile goes (reports come every second, or on request). */
export const TAB_TIMEOUT_MS = 4000;

/**
 * Open tabs by id.
 *
 * @example
 * const roster = new TabRoster();
 * roster.upsert(report);
 * roster.prune(); // drops tabs silent for 4 s
 * roster.list();  // oldest first
 */
export class TabRoster {
  readonly #tabs = new Map<string, { report: TabReport; seenAt: number }>();
  readonly #timeoutMs: number;
  readonly #now: () => number;

  constructor(timeoutMs = TAB_TIMEOUT_MS, now: () => number = Date.now) {
    this.#timeoutMs = timeoutMs;
    this.#now = now;
  }

  upsert(report: TabReport): void {
    this.#tabs.set(report.id, { report, seenAt: this.#now() });
  }

  remove(id: string): void {
    this.#tabs.delete(id);
  }

  /** Drops the tabs silent for too long, except `keep` (this tab, which does not hear itself). */
  prune(keep?: string): void {
    const oldest = this.#now() - this.#timeoutMs;
    for (const [id, { seenAt }] of this.#tabs) if (id !== keep && seenAt < oldest) this.#tabs.delete(id);
  }

  /** The open tabs, the one opened first first. */
  list(): TabReport[] {
    return [...this.#tabs.values()].map((t) => t.report).sort((a, b) => a.since - b.since || (a.id < b.id ? -1 : 1));
  }

  /** Whether `id` is the tab opened first: that one hands the chart's history to late tabs. */
  isEldest(id: string): boolean {
    return this.list()[0]?.id === id;
  }

  /** Reads per second over all open tabs. */
  readsPerSec(): number {
    let sum = 0;
    for (const { report } of this.#tabs.values()) sum += report.readsPerSec;
    return sum;
  }
}
