/**
 * What the OpenID provider recorded, read by the demo in OpenID Connect mode from the demo's server
 * (`GET /demo/oidc-log?since=`, built on the provider's own event log): every refresh-token grant
 * it answered — the chart's marks — and every token request it refused, the count of refreshes,
 * the lifetime its newest answer gave, and whether the proxy in front of it is down. The answer is
 * checked before anything is drawn from it; the provider's clock is mapped onto the page's with
 * the `now` it answers, as for the development origin.
 */
import type { Activity, ActivitySource } from './activitySource.ts';
import { getJson, isObject, isTime, OriginDataError } from './originActivity.ts';
import type { OutageMode } from './activitySource.ts';
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const GRANTS = ['authorization_code', 'refresh_token'];

/** The outages the provider's proxy offers: forwarding, or stopped. */
const PROVIDER_OUTAGES: readonly OutageMode[] = ['off', 'down'];

/**
 * The provider as the page's activity source.
 *
 * @example
 * const source = new ProviderActivity();
 * const { window, count, lifetimeS } = await source.read(Date.now() - 300_000);
 */
export class ProviderActivity implements ActivitySource {
  readonly outages = PROVIDER_OUTAGES;
  /** provider clock − page clock, ms, as last measured. */
  #offset = 0;

  async read(since: number): Promise<Activity> {
    const { body, sentAt, receivedAt } = await getJson(`/demo/oidc-log?since=${Math.max(0, Math.floor(since + this.#offset))}`);
    if (!isObject(body) || !isTime(body.now) || !isCount(body.refreshes) || !Array.isArray(body.answers)) {
      throw new OriginDataError('/demo/oidc-log answered without `now`, `refreshes` and `answers`');
    }
    // The provider read its clock somewhere between sending and receiving: take the middle.
    this.#offset = body.now - (sentAt + receivedAt) / 2;
    const mints: number[] = [];
    const refused: number[] = [];
    let lifetimeS: number | null = null;
    for (const answer of body.answers) {
      if (!isObject(answer) || !isTime(answer.at) || !Number.isInteger(answer.status) || !(answer.grant === null || GRANTS.includes(answer.grant as string))) {
        throw new OriginDataError('/demo/oidc-log answered a malformed record');
      }
      const { expiresIn } = answer;
      if (!(expiresIn === null || (Number.isSafeInteger(expiresIn) && (expiresIn as number) > 0)))
        throw new OriginDataError('/demo/oidc-log answered a malformed expiresIn');
      const at = answer.at - this.#offset;
      const ok = (answer.status as number) >= 200 && (answer.status as number) < 300;
      // Section 10's mint: a 2xx refresh-token grant. A sign-in's code redemption is not one.
      if (ok && answer.grant === 'refresh_token') mints.push(at);
      else if (!ok) refused.push(at);
      if (ok && expiresIn !== null) lifetimeS = expiresIn as number;
    }
    mints.sort((a, b) => a - b);
    refused.sort((a, b) => a - b);
    const outage = PROVIDER_OUTAGES.find((m) => m === body.outage) ?? null;
    return { window: { mints, refused }, count: body.refreshes, outage, lifetimeS };
  }

  async setOutage(mode: OutageMode): Promise<void> {
    if (!PROVIDER_OUTAGES.includes(mode)) throw new OriginDataError(`the provider has no outage mode ${mode}`);
    const res = await fetch('/demo/oidc-outage', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode }) });
    if (!res.ok) throw new OriginDataError(`/demo/oidc-outage answered ${res.status}`);
  }
}
