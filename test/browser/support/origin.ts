/**
 * The development origin as a browser test reaches it: same-origin, over real HTTP, with the
 * browser's own `__client` cookie (test/support/originApi.ts, with the page's own origin).
 */
import { advanceClock, origin, stats as statsAt, totalRequests as totalRequestsAt, type OriginStats } from '../../support/originApi.ts';

export type { OriginStats } from '../../support/originApi.ts';

/** Signs in (a new session on this browser's client, now the last active one) and returns its id. */
export async function signIn(identifier = `user-${Math.random().toString(36).slice(2, 8)}`): Promise<string> {
  const res = await fetch('/v1/client/sign_ins', { method: 'POST', body: new URLSearchParams({ identifier }) });
  if (!res.ok) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { response: { id: string } };
  return body.response.id;
}

export async function control(
  path: '/__origin/outage' | '/__origin/faults' | '/__origin/config' | '/__origin/clock' | '/__origin/reset',
  body: object = {},
): Promise<void> {
  await origin('', path, body);
}

/**
 * Moves the origin's clock `ms` ahead, so the next token has a later `iat` (1000: one second)
 * without waiting; the origin's `Date` moves with it, so the token's life as the client measures
 * it stays its lifetime. The `it` of `./fixtures.ts` resets the origin, and with it the clock,
 * after every test.
 */
export function advanceOriginClock(ms: number): Promise<void> {
  return advanceClock('', ms);
}

export function stats(): Promise<OriginStats> {
  return statsAt('');
}

export async function sessionMints(sessionId: string): Promise<number> {
  return (await stats()).sessions[sessionId]?.mints ?? 0;
}

/** Total requests of every route the origin counted. */
export function totalRequests(): Promise<number> {
  return totalRequestsAt('');
}
