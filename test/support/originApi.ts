/**
 * The development origin's control routes (`/__origin/*`) and backend API over fetch, written once
 * for Node and for a test page: `base` is the origin's URL from Node (`http://127.0.0.1:port`), or
 * `''` in a page the origin serves (same origin, the page's own cookie).
 */
import type { MintRecord, OriginStats } from '../../origin/OriginState.ts';

export type { MintRecord, OriginStats } from '../../origin/OriginState.ts';

/** The secret key of the development origin when nothing sets one (`sk_test_tabtoken`). */
export const SECRET_KEY = 'sk_test_tabtoken';

/** A control request: GET without a body, POST with a JSON one; throws unless it answers 2xx. */
export async function origin<T>(base: string, path: string, body?: object): Promise<T> {
  const res = await fetch(`${base}${path}`, body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {});
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

export const stats = (base: string): Promise<OriginStats> => origin<OriginStats>(base, '/__origin/stats');

/** Every request of the frontend token routes since the last reset (`GET /__origin/log`). */
export const mintLog = async (base: string): Promise<MintRecord[]> => (await origin<{ mints: MintRecord[] }>(base, '/__origin/log')).mints;

/**
 * Whether the origin has answered (200) a mint of the default token of `sessionId` that arrived at
 * or after `since` (ms; the origin's clock is this machine's until `advanceClock` moves it): once the
 * session's first token is out, a refresh.
 *
 * @example
 * await waitFor(() => refreshedSince(base, sessionId, leftAt), 10_000, 'a refresh while the tab is away');
 */
export const refreshedSince = async (base: string, sessionId: string, since: number): Promise<boolean> =>
  (await mintLog(base)).some((r) => r.sessionId === sessionId && r.template === null && r.status === 200 && r.at >= since);

/** Total requests of every route the origin counted (the control routes are not counted). */
export const totalRequests = async (base: string): Promise<number> => Object.values((await stats(base)).requests).reduce((a, b) => a + b, 0);

/**
 * Moves the origin's clock `ms` ahead (`POST /__origin/clock`) until the next reset: 1000 gives
 * the next token a later `iat` than the last one without waiting for a second to pass.
 */
export async function advanceClock(base: string, ms: number): Promise<void> {
  await origin(base, '/__origin/clock', { advanceMs: ms });
}

/** A call to the backend API with the default secret key; answers the status and the JSON body. */
export async function backend<T>(base: string, path: string, body?: object): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${SECRET_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}
