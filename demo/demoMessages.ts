/**
 * What the demo's tabs tell each other on the demo's own BroadcastChannel — not the library's,
 * which the demo never reads: each tab's report for the tab strip, a goodbye, and the chart's
 * history handed to a tab that opens late. Anything that arrives is checked field by field; a
 * message that does not parse is dropped.
 */
import type { Status } from 'tabtoken';

/** The demo's channel; the library's channels are named `tabtoken:v1:…`, so they never meet. */
export const DEMO_CHANNEL = 'tabtoken-demo:v1';

/** How long a sample of the chart's history may be kept, and so how far back the chart looks. */
export const HISTORY_WINDOW_MS = 5 * 60_000;

/** Most samples a history message may carry (one a second over the window, with room to spare). */
export const MAX_SAMPLES = 600;

/** One tab as its tile shows it. */
export interface TabReport {
  /** A short random id the tab picked when it loaded. */
  id: string;
  /** When the tab loaded (page clock, ms). */
  since: number;
  status: Status;
  /** The last four characters of the tab's default token; '' when it has none. */
  tokenTail: string;
  /** Reads of the tab (`stats().tab` hits + misses). */
  reads: number;
  /** Reads per second over the tab's last report interval. */
  readsPerSec: number;
  /** Whether the tab is visible: a visible tab's report asks the others to report back. */
  visible: boolean;
}

/** One second of the chart's history, as any tab sees it. */
export interface Sample {
  /** Page clock, ms. */
  t: number;
  /** Tabs connected to the worker (`stats().tabs`). */
  tabs: number;
  /** Reads per second summed over every tab's report. */
  readsPerSec: number;
  /** This tab's status, which every tab shares. */
  status: Status;
  /** The default token's lifetime (`exp − iat`, s); null while there is none. */
  lifetimeS: number | null;
}

export type DemoMessage =
  | { v: 1; type: 'report'; report: TabReport }
  | { v: 1; type: 'bye'; id: string }
  | { v: 1; type: 'history-request'; from: string }
  | { v: 1; type: 'history'; to: string; samples: Sample[] };

const STATUSES: readonly Status[] = ['connecting', 'ok', 'degraded', 'signed-out'];
const ID = /^[a-z0-9]{1,16}$/;
const TAIL = /^[A-Za-z0-9_-]{0,4}$/;

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isId = (v: unknown): v is string => typeof v === 'string' && ID.test(v);
const isStatus = (v: unknown): v is Status => STATUSES.some((s) => s === v);
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isRate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1e7;

function parseReport(value: unknown): TabReport | null {
  if (!isObject(value)) return null;
  const { id, since, status, tokenTail, reads, readsPerSec, visible } = value;
  if (!isId(id) || !isTime(since) || !isStatus(status) || typeof tokenTail !== 'string' || !TAIL.test(tokenTail)) return null;
  if (!isCount(reads) || !isRate(readsPerSec) || typeof visible !== 'boolean') return null;
  return { id, since, status, tokenTail, reads, readsPerSec, visible };
}

function parseSample(value: unknown): Sample | null {
  if (!isObject(value)) return null;
  const { t, tabs, readsPerSec, status, lifetimeS } = value;
  if (!isTime(t) || !isCount(tabs) || !isRate(readsPerSec) || !isStatus(status)) return null;
  if (lifetimeS !== null && !(typeof lifetimeS === 'number' && Number.isFinite(lifetimeS) && lifetimeS > 0)) return null;
  return { t, tabs, readsPerSec, status, lifetimeS };
}

/**
 * The message, checked; null for anything else.
 *
 * @example
 * channel.onmessage = (e) => { const m = parseDemoMessage(e.data); if (m) handle(m); };
 */
export function parseDemoMessage(data: unknown): DemoMessage | null {
  if (!isObject(data) || data.v !== 1) return null;
  switch (data.type) {
    case 'report': {
      const report = parseReport(data.report);
      return report && { v: 1, type: 'report', report };
    }
    case 'bye':
      return isId(data.id) ? { v: 1, type: 'bye', id: data.id } : null;
    case 'history-request':
      return isId(data.from) ? { v: 1, type: 'history-request', from: data.from } : null;
    case 'history': {
      if (!isId(data.to) || !Array.isArray(data.samples) || data.samples.length > MAX_SAMPLES) return null;
      const samples: Sample[] = [];
      for (const raw of data.samples) {
        const sample = parseSample(raw);
        // Out of order would break every sum over the history.
        if (!sample || (samples.length > 0 && sample.t < samples[samples.length - 1]!.t)) return null;
        samples.push(sample);
      }
      return { v: 1, type: 'history', to: data.to, samples };
    }
    default:
      return null;
  }
}
