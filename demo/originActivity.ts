/**
 * What the development origin measured, read by the demo: every mint (and every refused token
 * request) of the chart's window from `GET /__origin/log?since=`, and the counters and outage mode
 * from `GET /__origin/stats`. Both answers are checked before anything is drawn from them; the
 * origin's clock is mapped onto the page's with the `now` it answers. `ClerkActivity` is the
 * page's `ActivitySource` for this origin, with its outage switch (`POST /__origin/outage`).
 */
import type { Activity, ActivitySource, OriginWindow, OutageMode } from './activitySource.ts';

export interface OriginCounters {
  /** `stats.mints`: every mint since the origin's last reset. */
  mints: number;
  outage: OutageMode | null;
}

/** The origin answered something the demo cannot read. */
export class OriginDataError extends Error {
  override readonly name = 'OriginDataError';
  readonly code = 'origin_data';
}

const OUTAGES: readonly OutageMode[] = ['off', 'missing_expired_token', 'down'];

type Fields = Record<string, unknown>;
export const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** A JSON answer of the demo's server, with when it was asked and answered (page clock). */
export async function getJson(path: string): Promise<{ body: unknown; sentAt: number; receivedAt: number }> {
  const sentAt = Date.now();
  const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!res.ok) throw new OriginDataError(`${path} answered ${res.status}`);
  const body: unknown = await res.json().catch(() => {
    throw new OriginDataError(`${path} answered something that is not JSON`);
  });
  return { body, sentAt, receivedAt: Date.now() };
}

/**
 * Reads the origin's mint log, mapping its clock onto the page's.
 *
 * @example
 * const log = new OriginLog();
 * const { mints } = await log.read(Date.now() - 300_000);
 */
export class OriginLog {
  /** origin clock − page clock, ms, as last measured. */
  #offset = 0;

  /** The token requests that arrived at the origin at or after `since` (page clock). */
  async read(since: number): Promise<OriginWindow> {
    const originSince = Math.max(0, Math.floor(since + this.#offset));
    const { body, sentAt, receivedAt } = await getJson(`/__origin/log?since=${originSince}`);
    if (!isObject(body) || !Array.isArray(body.mints) || !isTime(body.now)) throw new OriginDataError('/__origin/log answered without `mints` and `now`');
    // The origin read its clock somewhere between sending and receiving: take the middle.
    this.#offset = body.now - (sentAt + receivedAt) / 2;
    const mints: number[] = [];
    const refused: number[] = [];
    for (const record of body.mints) {
      if (!isObject(record) || !isTime(record.at) || !isTime(record.ms) || !Number.isInteger(record.status) || typeof record.minted !== 'boolean') {
        throw new OriginDataError('/__origin/log answered a malformed record');
      }
      const answeredAt = record.at + record.ms - this.#offset;
      if (record.minted) mints.push(answeredAt);
      else if ((record.status as number) === 0 || (record.status as number) >= 400) refused.push(answeredAt);
    }
    // The log is in answer order, which is time order on the origin's clock; keep it sorted anyway.
    mints.sort((a, b) => a - b);
    refused.sort((a, b) => a - b);
    return { mints, refused };
  }
}

/**
 * The origin's counters.
 *
 * @example
 * const { mints, outage } = await readOriginCounters();
 */
export async function readOriginCounters(): Promise<OriginCounters> {
  const { body } = await getJson('/__origin/stats');
  if (!isObject(body) || !Number.isSafeInteger(body.mints) || (body.mints as number) < 0 || !isObject(body.requests) || !isObject(body.sessions)) {
    throw new OriginDataError('/__origin/stats answered without `mints`, `requests` and `sessions`');
  }
  const outage = OUTAGES.find((m) => m === body.outage) ?? null;
  return { mints: body.mints as number, outage };
}

/**
 * The development origin as the page's activity source.
 *
 * @example
 * const source = new ClerkActivity();
 * const { window, count } = await source.read(Date.now() - 300_000);
 */
export class ClerkActivity implements ActivitySource {
  readonly outages: readonly OutageMode[] = OUTAGES;
  readonly #log = new OriginLog();

  async read(since: number): Promise<Activity> {
    const [window, counters] = await Promise.all([this.#log.read(since), readOriginCounters()]);
    // Its tokens are JWTs: each says its own lifetime.
    return { window, count: counters.mints, outage: counters.outage, lifetimeS: null };
  }

  async setOutage(mode: OutageMode): Promise<void> {
    const res = await fetch('/__origin/outage', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode }) });
    if (!res.ok) throw new OriginDataError(`/__origin/outage answered ${res.status}`);
  }
}
