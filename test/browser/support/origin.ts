/**
 * The development origin as a browser test reaches it: same-origin, over real HTTP, with the
 * browser's own `__client` cookie.
 */
export interface OriginStats {
  mints: number;
  requests: Record<string, number>;
  sessions: Record<string, { mints: number }>;
}

/** Signs in (a new session on this browser's client, now the last active one) and returns its id. */
export async function signIn(identifier = `user-${Math.random().toString(36).slice(2, 8)}`): Promise<string> {
  const res = await fetch('/v1/client/sign_ins', { method: 'POST', body: new URLSearchParams({ identifier }) });
  if (!res.ok) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { response: { id: string } };
  return body.response.id;
}

export async function control(path: '/__origin/outage' | '/__origin/faults' | '/__origin/config' | '/__origin/reset', body: object = {}): Promise<void> {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path} failed: ${res.status} ${await res.text()}`);
}

export async function stats(): Promise<OriginStats> {
  const res = await fetch('/__origin/stats');
  return (await res.json()) as OriginStats;
}

export async function sessionMints(sessionId: string): Promise<number> {
  return (await stats()).sessions[sessionId]?.mints ?? 0;
}

/** Total requests of every route the origin counted. */
export async function totalRequests(): Promise<number> {
  return Object.values((await stats()).requests).reduce((a, b) => a + b, 0);
}
