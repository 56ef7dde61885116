/**
 * The chart's memory: one sample a second of what every tab does (tabs open, reads per second,
 * the shared status, the token lifetime), and what can be worked out from it — the mints a per-tab
 * SDK would have made, and the periods of outage and sign-out. The mints tabtoken made are not
 * here: they are measured at the origin (`originActivity.ts`).
 */
import { HISTORY_WINDOW_MS, type Sample } from './demoMessages.ts';
import type { Status } from 'tabtoken';

/**
 * Samples are kept a minute longer than the chart shows, so the left edge of the window has a
 * sample before it: the per-tab curve is then measured from the window's edge, and tabs already
 * open when the window starts are not counted as opened there.
 */
const KEEP_MS = HISTORY_WINDOW_MS + 60_000;

/** A period the chart shades. */
export interface StatusBand {
  from: number;
  to: number;
  status: Extract<Status, 'degraded' | 'signed-out'>;
}

/**
 * The samples of the last few minutes, oldest first.
 *
 * @example
 * const history = new ActivityHistory();
 * history.add({ t: Date.now(), tabs: 1, readsPerSec: 4, status: 'ok', lifetimeS: 60 });
 * perTabSdkMints(history.samples(), Date.now());
 */
export class ActivityHistory {
  #samples: Sample[] = [];

  /** Adds a sample (a sample older than the newest is dropped: the history stays ordered). */
  add(sample: Sample): void {
    const last = this.#samples[this.#samples.length - 1];
    if (last && sample.t < last.t) return;
    this.#samples.push(sample);
    const oldest = sample.t - KEEP_MS;
    while (this.#samples.length > 0 && this.#samples[0]!.t < oldest) this.#samples.shift();
  }

  /**
   * Takes the part of another tab's history that comes before this tab's own first sample, so a
   * tab opened late draws the same chart as the tab that was there first.
   */
  adopt(earlier: readonly Sample[]): void {
    const first = this.#samples[0]?.t ?? Infinity;
    const newest = this.#samples[this.#samples.length - 1]?.t ?? Date.now();
    const before = earlier.filter((s) => s.t < first && s.t >= newest - KEEP_MS);
    if (before.length > 0) this.#samples = [...before, ...this.#samples];
  }

  samples(): readonly Sample[] {
    return this.#samples;
  }
}

/** The last sample at or before `t`: the state the chart holds from it until the next sample. */
export function sampleAt(samples: readonly Sample[], t: number): Sample | undefined {
  const i = lastIndex(samples, t, true);
  return i < 0 ? undefined : samples[i];
}

/**
 * The mints a per-tab SDK would have made by each of `times`, counted from `from` — computed, not
 * measured: every tab holds its own token, so it mints one when it opens (or when the user signs
 * in) and one per token lifetime while it is open and signed in. This is the cheapest such SDK:
 * real ones refresh before expiry, and also re-mint after an outage, neither of which is counted.
 *
 * @example
 * // ten tabs for one 60 s lifetime: 10 opened + 10 refreshes
 * perTabSdkMints([{ t: 0, tabs: 10, status: 'ok', lifetimeS: 60, readsPerSec: 0 },
 *                 { t: 60_000, tabs: 10, status: 'ok', lifetimeS: 60, readsPerSec: 0 }], 0, [60_000]) // [20]
 */
export function perTabSdkMints(samples: readonly Sample[], from: number, times: readonly number[]): number[] {
  // cumulative[i]: mints by samples[i].t, its own jump included.
  const cumulative: number[] = [];
  let previous: Sample | undefined;
  let total = 0;
  for (const sample of samples) {
    if (previous) total += refreshesBetween(previous, sample.t);
    total += opened(previous, sample);
    cumulative.push(total);
    previous = sample;
  }
  const at = (t: number, inclusive: boolean): number => {
    const i = lastIndex(samples, t, inclusive);
    return i < 0 ? 0 : cumulative[i]! + refreshesBetween(samples[i]!, t);
  };
  // A tab opened exactly at `from` is inside the window.
  const base = at(from, false);
  return times.map((t) => at(t, true) - base);
}

/** Refreshes the tabs of `sample` make from its time until `t`, while signed in with a token. */
function refreshesBetween(sample: Sample, t: number): number {
  if (sample.status !== 'ok' || sample.lifetimeS === null) return 0;
  return (sample.tabs * Math.max(0, t - sample.t)) / (sample.lifetimeS * 1000);
}

/** Tabs that need a first token at `sample`: new tabs, or every tab once the user signs in. */
function opened(previous: Sample | undefined, sample: Sample): number {
  if (sample.status !== 'ok') return 0;
  if (!previous || previous.status === 'signed-out' || previous.status === 'connecting') return sample.tabs;
  return Math.max(0, sample.tabs - previous.tabs);
}

/** The index of the last sample before `t` (or at it, when `inclusive`); -1 when there is none. */
function lastIndex(samples: readonly Sample[], t: number, inclusive: boolean): number {
  let lo = 0;
  let hi = samples.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const st = samples[mid]!.t;
    if (st < t || (inclusive && st === t)) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** The periods of `degraded` and `signed-out` in the samples, each lasting until the next sample that differs (or `now`). */
export function statusBands(samples: readonly Sample[], now: number): StatusBand[] {
  const bands: StatusBand[] = [];
  let open: StatusBand | null = null;
  for (const sample of samples) {
    if (open && open.status !== sample.status) {
      open.to = sample.t;
      bands.push(open);
      open = null;
    }
    if (!open && (sample.status === 'degraded' || sample.status === 'signed-out')) open = { from: sample.t, to: now, status: sample.status };
  }
  if (open) bands.push(open);
  return bands;
}
