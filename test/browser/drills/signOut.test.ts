/**
 * Drill 8 — sign-out propagation. A sign-out from any tab (shared and local mode, one of them while a
 * mint is in flight), a session ended at the origin by someone else, and a test session token revoked
 * at the backend API must each reach every tab; afterwards no API in any tab returns that session's
 * token — getToken, peekToken, getSnapshot, the `token` events still to come, tokens.fetch — and
 * IndexedDB holds none of it.
 *
 * Every drill starts by ending the other sessions of this browser's client (earlier tests signed in
 * on the same cookie), so that the sign-out leaves the browser signed out rather than switched to an
 * older session — which the engine would pick up from `GET /v1/client`, as it should.
 */
import { describe, expect } from 'vitest';
import { control, signIn, stats } from '../support/origin.ts';
import { backend, endAllSessions, faults, mintsAnswered, readStore } from '../support/drills.ts';
import { it } from '../support/fixtures.ts';
import { uniqueNamespace, waitFor, type Tab } from '../support/tabs.ts';

const JWT = /eyJ[\w-]*\.eyJ[\w-]*\.[\w-]*/g;

/** Reads the session's tokens through every API of every tab, so the drill knows what must disappear. */
async function useSession(list: Tab[]): Promise<Set<string>> {
  const jwts = new Set<string>();
  for (const tab of list) {
    for (const options of [undefined, { template: 'api' }]) {
      const jwt = await tab.api.manager.getToken(options);
      if (typeof jwt === 'string') jwts.add(jwt);
    }
  }
  return jwts;
}

/** Everything a tab could hand out after the sign-out: all of it must be free of the session. */
async function assertSignedOut(tab: Tab, sessionId: string, jwts: ReadonlySet<string>, since: number): Promise<void> {
  const { manager } = tab.api;
  const snapshot = manager.getSnapshot();
  expect(snapshot.status).toBe('signed-out');
  expect(snapshot.sessionId).toBeNull();
  expect(Object.keys(snapshot.tokens).filter((k) => k.startsWith(`${sessionId}|`))).toEqual([]);
  expect(tab.api.events.some((e) => e.type === 'signout' && (e.detail as { sessionId: string }).sessionId === sessionId)).toBe(true);
  expect(manager.peekToken()).toBeNull();
  expect(manager.peekToken({ template: 'api' })).toBeNull();
  expect(await manager.getToken()).toBeNull();
  expect(await manager.getToken({ template: 'api' })).toBeNull();
  expect(await manager.getToken({ skipCache: true })).toBeNull();
  // tokens.fetch sends the request without the header.
  const win = tab.frame.contentWindow as unknown as { fetch: typeof fetch };
  const realFetch = win.fetch;
  let authorization: string | null = 'unset';
  win.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    authorization = new Request(input, init).headers.get('authorization');
    return new Response('{}');
  };
  try {
    await manager.fetch('/api/me');
  } finally {
    win.fetch = realFetch;
  }
  expect(authorization).toBeNull();
  // Nothing of the session in what the tab still holds, nor in a token event after the sign-out.
  const held = JSON.stringify(manager.getSnapshot());
  for (const jwt of jwts) expect(held).not.toContain(jwt);
  const late = tab.api.events.filter((e) => e.type === 'token' && e.at > since).map((e) => (e.detail as { jwt: string }).jwt);
  for (const jwt of late) expect(jwts.has(jwt)).toBe(false);
}

async function assertStoreClean(namespace: string, sessionId: string, jwts: ReadonlySet<string>): Promise<void> {
  const stored = await readStore(namespace);
  expect(stored).not.toContain(sessionId);
  for (const jwt of jwts) expect(stored).not.toContain(jwt);
  expect(stored.match(JWT)).toBeNull();
}

describe('drill 8: sign-out propagation', () => {
  it('a sign-out from the last of four tabs, while a mint is in flight, reaches every tab and leaves nothing of the session anywhere', async ({ tabs }) => {
    await endAllSessions();
    const sessionId = await signIn();
    const namespace = uniqueNamespace('so-shared');
    const list = await tabs.open(4, { namespace, pollIntervalMs: 1000 });
    const jwts = await useSession(list);
    expect((await readStore(namespace)).match(JWT)?.length).toBeGreaterThan(0);
    // A mint held 1.5 s at the origin when the sign-out happens: its token must be dropped on arrival.
    await faults({ latencyMs: 1500 });
    const mintsBefore = (await stats()).requests.mint ?? 0;
    /** The answers the worker has received: its 2xx token answers and its failed requests. */
    const received = async () => {
      const { mints, requests } = await list[0]!.api.manager.stats();
      return mints + requests.failed;
    };
    const receivedBefore = await received();
    const inFlight = list[0]!.api.manager.getToken({ skipCache: true });
    await waitFor(async () => ((await stats()).requests.mint ?? 0) > mintsBefore, 5000, 'the held mint to reach the origin');
    const since = Date.now();
    await list[3]!.api.manager.signOut();
    expect(await inFlight).toBeNull();
    for (const tab of list) await waitFor(() => tab.api.manager.getSnapshot().status === 'signed-out', 3000, 'every tab signed out');
    const reachedIn = Date.now() - since;
    // The held mint has answered: the origin logged its answer, and the worker received it, so
    // whatever the worker did with its token is done.
    await waitFor(mintsAnswered, 5000, 'the origin to answer the held mint');
    await waitFor(async () => (await received()) > receivedBefore, 5000, 'the worker to receive the held mint’s answer');
    for (const tab of list) await assertSignedOut(tab, sessionId, jwts, since);
    await assertStoreClean(namespace, sessionId, jwts);
    const client = (await (await fetch('/v1/client')).json()) as { response: { sessions: { id: string }[] } | null };
    expect(client.response?.sessions.map((s) => s.id) ?? []).not.toContain(sessionId);
    console.info('[drill 8] shared sign-out reached 4 tabs in', reachedIn, 'ms');
  });

  it('a sign-out from a follower in local mode reaches the leader and every follower', async ({ tabs }) => {
    await endAllSessions();
    const sessionId = await signIn();
    const namespace = uniqueNamespace('so-local');
    const list = await tabs.open(1, { namespace, pollIntervalMs: 1000 }, { nosw: true });
    list.push(...(await tabs.open(2, { namespace, pollIntervalMs: 1000 }, { nosw: true })));
    const jwts = await useSession(list);
    const since = Date.now();
    await list[2]!.api.manager.signOut();
    for (const tab of list) await waitFor(() => tab.api.manager.getSnapshot().status === 'signed-out', 3000, 'every tab signed out');
    const reachedIn = Date.now() - since;
    for (const tab of list) await assertSignedOut(tab, sessionId, jwts, since);
    await assertStoreClean(namespace, sessionId, jwts);
    console.info('[drill 8] local sign-out reached 3 tabs in', reachedIn, 'ms');
  });

  it('a session ended at the origin by someone else signs every tab out at the next refresh', async ({ tabs }) => {
    await control('/__origin/config', { tokenLifetimeSeconds: 20 });
    await endAllSessions();
    const sessionId = await signIn();
    const namespace = uniqueNamespace('so-ended');
    const list = await tabs.open(3, { namespace, pollIntervalMs: 1000 });
    const jwts = await useSession(list);
    const { staleAt } = list[0]!.api.manager.getSnapshot().tokens[`${sessionId}|||`]!;
    const endedAt = Date.now();
    const end = await fetch(`/v1/client/sessions/${sessionId}/end`, { method: 'POST' });
    expect(end.status).toBe(200);
    // Until the next refresh asks the origin, the tabs cannot know: a JWT is valid until it expires.
    for (const tab of list) await waitFor(() => tab.api.manager.getSnapshot().status === 'signed-out', 25_000, 'every tab signed out');
    const detectedIn = Date.now() - endedAt;
    expect(Date.now()).toBeLessThan(Math.max(staleAt, endedAt) + 4000);
    for (const tab of list) await assertSignedOut(tab, sessionId, jwts, Date.now());
    await assertStoreClean(namespace, sessionId, jwts);
    console.info(
      '[drill 8] ended at the origin: every tab signed out',
      detectedIn,
      'ms later (the token was stale',
      Math.max(0, staleAt - endedAt),
      'ms after the end)',
    );
  });

  it('revoking the test session token that signed the browser in signs every tab out', async ({ tabs }) => {
    await control('/__origin/config', { tokenLifetimeSeconds: 20 });
    await endAllSessions();
    const created = await backend<{ id: string; url: string; status: string }>('/v1/test_session_tokens', {
      user_id: 'user_drill8',
      redirect_url: '/v1/client',
    });
    expect(created.status).toBe(200);
    const frame = document.createElement('iframe');
    const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
    frame.src = created.body.url;
    document.body.append(frame);
    await loaded;
    frame.remove();
    const client = (await (await fetch('/v1/client')).json()) as { response: { last_active_session_id: string } };
    const sessionId = client.response.last_active_session_id;
    const namespace = uniqueNamespace('so-revoked');
    const list = await tabs.open(3, { namespace, pollIntervalMs: 1000 });
    for (const tab of list) expect(tab.api.manager.getSnapshot().sessionId).toBe(sessionId);
    const jwts = await useSession(list);
    const revokedAt = Date.now();
    const revoked = await backend<{ status: string }>(`/v1/test_session_tokens/${created.body.id}/revoke`, {});
    expect(revoked.body.status).toBe('revoked');
    for (const tab of list) await waitFor(() => tab.api.manager.getSnapshot().status === 'signed-out', 25_000, 'every tab signed out');
    const detectedIn = Date.now() - revokedAt;
    for (const tab of list) await assertSignedOut(tab, sessionId, jwts, Date.now());
    await assertStoreClean(namespace, sessionId, jwts);
    console.info('[drill 8] revoked test session token: every tab signed out', detectedIn, 'ms later');
  });
});
