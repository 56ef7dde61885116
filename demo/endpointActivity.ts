/**
 * What the app's own token endpoint answered, read by the demo from the demo's server
 * (`GET /demo/endpoint-log?route=`, which sees every answer of the token route): each 2xx answer is
 * a mark of the chart, each refused one (401 while signed out, 503 in an outage) a refused mark.
 * The answer is checked before anything is drawn from it; the server's clock is mapped onto the
 * page's with the `now` it answers, as for the other origins. The outage switch is the development
 * origin's own (`POST /__origin/outage`, which reaches its token route) or, for better-auth, the
 * demo server's switch in front of it.
 */
import type { Activity, ActivitySource, OutageMode } from './activitySource.ts';
import { getJson, isObject, isTime, OriginDataError, readOriginCounters } from './originActivity.ts';
import type { EndpointKind } from './originChoice.ts';

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const OUTAGES: readonly OutageMode[] = ['off', 'down'];

async function post(path: string, body: object): Promise<void> {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new OriginDataError(`${path} answered ${res.status}`);
}

/**
 * The app's own token endpoint as the page's activity source.
 *
 * @example
 * const source = new EndpointActivity('endpoint');
 * const { window, count } = await source.read(Date.now() - 300_000);
 */
export class EndpointActivity implements ActivitySource {
  readonly outages = OUTAGES;
  readonly #kind: EndpointKind;
  /** server clock − page clock, ms, as last measured. */
  #offset = 0;

  constructor(kind: EndpointKind) {
    this.#kind = kind;
  }

  async read(since: number): Promise<Activity> {
    const route = this.#kind === 'endpoint' ? 'app' : 'better-auth';
    const [{ body, sentAt, receivedAt }, origin] = await Promise.all([
      getJson(`/demo/endpoint-log?route=${route}&since=${Math.max(0, Math.floor(since + this.#offset))}`),
      // The development origin says its own outage mode.
      this.#kind === 'endpoint' ? readOriginCounters() : Promise.resolve(null),
    ]);
    if (!isObject(body) || !isTime(body.now) || !isCount(body.tokens) || !Array.isArray(body.answers)) {
      throw new OriginDataError('/demo/endpoint-log answered without `now`, `tokens` and `answers`');
    }
    // The server read its clock somewhere between sending and receiving: take the middle.
    this.#offset = body.now - (sentAt + receivedAt) / 2;
    const mints: number[] = [];
    const refused: number[] = [];
    for (const answer of body.answers) {
      if (!isObject(answer) || !isTime(answer.at) || !Number.isInteger(answer.status))
        throw new OriginDataError('/demo/endpoint-log answered a malformed record');
      const at = answer.at - this.#offset;
      const status = answer.status as number;
      if (status >= 200 && status < 300) mints.push(at);
      else refused.push(at);
    }
    mints.sort((a, b) => a - b);
    refused.sort((a, b) => a - b);
    const outage = origin ? (origin.outage === 'down' ? 'down' : 'off') : (OUTAGES.find((m) => m === body.outage) ?? null);
    // Its tokens are JWTs: each says its own lifetime.
    return { window: { mints, refused }, count: body.tokens, outage, lifetimeS: null };
  }

  async setOutage(mode: OutageMode): Promise<void> {
    if (!OUTAGES.includes(mode)) throw new OriginDataError(`the token endpoint has no outage mode ${mode}`);
    await post(this.#kind === 'endpoint' ? '/__origin/outage' : '/demo/endpoint-outage', { mode });
  }
}
