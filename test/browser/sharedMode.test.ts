import { decodeJwt } from 'jose';
import { describe, expect } from 'vitest';
import { readStore } from './support/drills.ts';
import { it } from './support/fixtures.ts';
import { advanceOriginClock, control, sessionMints, signIn, stats, totalRequests } from './support/origin.ts';
import { readAll, repeatUntil, uniqueNamespace, waitFor } from './support/tabs.ts';

describe('shared mode, several tabs', () => {
  it('ten tabs reading continuously through two refresh cycles cost one mint per cycle', async ({ tabs }) => {
    await control('/__origin/config', { tokenLifetimeSeconds: 20 });
    const sessionId = await signIn();
    const namespace = uniqueNamespace('cycles');
    const list = await tabs.open(10, { namespace, pollIntervalMs: 1000 });
    const seen = new Set<string>();
    const before = await sessionMints(sessionId);
    // 20 s tokens, 15 s leeway: a refresh about every 5 s; read for two cycles and a bit.
    await repeatUntil(Date.now() + 13_000, 50, async () => {
      for (const jwt of await readAll(list)) {
        expect(jwt).toBeTypeOf('string');
        seen.add(jwt as string);
        expect(decodeJwt(jwt as string).sid).toBe(sessionId);
      }
    });
    const mints = (await sessionMints(sessionId)) - before;
    // Every token any tab saw came from exactly one mint, and no mint was wasted: one per cycle.
    expect(seen.size).toBeGreaterThanOrEqual(3);
    expect(mints).toBeLessThanOrEqual(seen.size);
    expect(mints).toBeGreaterThanOrEqual(seen.size - 1);
  });

  it('a token refreshed in one tab is read by every tab', async ({ tabs }) => {
    await signIn();
    const list = await tabs.open(4, { namespace: uniqueNamespace('fanout') });
    const first = await list[0]!.api.manager.getToken();
    await advanceOriginClock(1000); // a new iat
    const forced = await list[1]!.api.manager.getToken({ skipCache: true });
    expect(forced).not.toBe(first);
    for (const tab of list) {
      await waitFor(() => tab.api.manager.peekToken() === forced, 2000, 'the new token to reach every tab');
    }
  });

  it('sign-out from one tab leaves no tab and no IndexedDB entry holding the session token', async ({ tabs }) => {
    const sessionId = await signIn();
    const namespace = uniqueNamespace('signout');
    const list = await tabs.open(3, { namespace });
    const jwt = await list[0]!.api.manager.getToken();
    expect(jwt).toBeTypeOf('string');
    await list[2]!.api.manager.signOut();
    for (const tab of list) {
      await waitFor(() => tab.api.manager.getSnapshot().status === 'signed-out', 3000, 'every tab to be signed out');
      expect(tab.api.manager.peekToken()).toBeNull();
      expect(await tab.api.manager.getToken()).toBeNull();
      expect(JSON.stringify(tab.api.manager.getSnapshot())).not.toContain(sessionId);
    }
    const stored = await readStore(namespace);
    expect(stored).not.toContain(jwt as string);
  });

  it('a tab opened while the worker is warm gets its first token with no request to the origin', async ({ tabs }) => {
    await signIn();
    const namespace = uniqueNamespace('warm');
    const [first] = await tabs.open(1, { namespace });
    const jwt = await first!.api.manager.getToken();
    const before = await totalRequests();
    const [late] = await tabs.open(1, { namespace });
    expect(await late!.api.manager.getToken()).toBe(jwt);
    // The fault-control routes (stats) are not counted: nothing may have reached the origin.
    expect((await totalRequests()) - before).toBe(0);
  });

  it('the hot path sends no message to the worker', async ({ tabs }) => {
    await signIn();
    const namespace = uniqueNamespace('hot');
    const [tab] = await tabs.open(1, { namespace }, { count: true });
    const manager = tab!.api.manager;
    await manager.getToken();
    // The tab's posts have come to rest (the first read's report to the worker, if it made one, is
    // out): a round trip to the worker in which the tab posted nothing but the call itself.
    await waitFor(
      async () => {
        const posted = tab!.api.posted.port;
        await manager.stats();
        return tab!.api.posted.port === posted + 1;
      },
      5000,
      'the tab’s posts to come to rest',
    );
    const before = { ...tab!.api.posted };
    for (let i = 0; i < 10_000; i++) {
      await manager.getToken();
      manager.peekToken();
    }
    expect(tab!.api.posted.port).toBe(before.port);
    expect(tab!.api.posted.channel).toBe(before.channel);
  });

  it('getSnapshot keeps its identity between changes and changes on every update', async ({ tabs }) => {
    await signIn();
    const [tab] = await tabs.open(1, { namespace: uniqueNamespace('snap') });
    const manager = tab!.api.manager;
    await manager.getToken();
    const a = manager.getSnapshot();
    expect(manager.getSnapshot()).toBe(a);
    let notified = 0;
    const off = manager.subscribe(() => notified++);
    await manager.getToken({ skipCache: true });
    await waitFor(() => manager.getSnapshot() !== a, 2000, 'a new snapshot');
    const b = manager.getSnapshot();
    expect(b.version).toBeGreaterThan(a.version);
    expect(notified).toBeGreaterThan(0);
    expect(manager.getSnapshot()).toBe(b);
    expect(Object.isFrozen(b)).toBe(true);
    off();
  });

  it('errors keep their class and code in the tab', async ({ tabs }) => {
    await signIn();
    const [tab] = await tabs.open(1, { namespace: uniqueNamespace('errors') });
    const { manager, OriginResponseError, TokenError, InvalidArgumentError } = tab!.api;
    const missing = await manager.getToken({ template: 'no_such_template' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OriginResponseError);
    expect(missing).toBeInstanceOf(TokenError);
    expect(missing).toMatchObject({ code: 'origin_response', status: 404, name: 'OriginResponseError' });
    expect((missing as InstanceType<typeof OriginResponseError>).errors[0]?.code).toBe('template_not_found');
    const tooShort = await manager.getToken({ expiresInSeconds: 10 }).catch((e: unknown) => e);
    expect(tooShort).toMatchObject({ code: 'origin_response', status: 422 });
    expect((tooShort as InstanceType<typeof OriginResponseError>).errors[0]?.code).toBe('form_param_format_invalid');
    const bad = await manager.getToken({ template: '../x' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidArgumentError);
    expect(() => manager.peekToken({ expiresInSeconds: -1 })).toThrow(InvalidArgumentError);
  });

  it('a later tab with a different worker-level option is refused with the option named', async ({ tabs }) => {
    await signIn();
    const namespace = uniqueNamespace('mismatch');
    await tabs.open(1, { namespace, pollIntervalMs: 2000 });
    const other = await tabs.openUnready({ namespace, pollIntervalMs: 3000 });
    const error = await other.api.manager.ready.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(other.api.InvalidArgumentError);
    expect(String((error as Error).message)).toContain('pollIntervalMs');
  });

  it('a worker that cannot start rejects ready with ConnectionError, or falls back to local mode under auto', async ({ tabs }) => {
    await signIn();
    const broken = await tabs.openUnready({ namespace: uniqueNamespace('broken'), mode: 'shared', workerUrl: '/no/such/worker.js' });
    const error = await broken.api.manager.ready.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(broken.api.ConnectionError);
    expect(String((error as Error).message)).toContain('/no/such/worker.js');

    const fallback = await tabs.openUnready({ namespace: uniqueNamespace('fallback'), mode: 'auto', workerUrl: '/no/such/worker.js' });
    await fallback.api.manager.ready;
    expect(fallback.api.manager.getSnapshot().mode).toBe('local');
    expect(await fallback.api.manager.getToken()).toBeTypeOf('string');
  });

  it('a manager closed before it is ready starts nothing, and one created after it works (React StrictMode)', async ({ tabs }) => {
    await signIn();
    const [tab] = await tabs.open(1, { namespace: uniqueNamespace('host') });
    const namespace = uniqueNamespace('strict');
    const first = tab!.api.createTokenManager({ namespace, mode: 'auto' });
    first.close();
    const error = await first.ready.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(tab!.api.ConnectionError);
    expect(String((error as Error).message)).toContain('closed');
    // `ready` is the promise of the whole start (connect()): rejected, the start has run its
    // course — the fallback decided, any wait on the worker's lock asked for — so what follows
    // is what the closed manager left.
    // Closed while connecting is not a worker that failed: no fall back to a local-mode engine.
    expect(first.getSnapshot().mode).toBe('shared');
    const locks = await tab!.frame.contentWindow!.navigator.locks.query();
    // The worker that got the hello holds its own locks (the engine's, and its lifetime lock) until
    // the browser ends it; the manager itself holds and waits on nothing.
    expect((locks.held ?? []).map((l) => l.name).filter((n) => n?.includes(namespace) && !n.includes(':worker:') && !n.includes(':engine:'))).toEqual([]);
    expect((locks.pending ?? []).map((l) => l.name).filter((n) => n?.includes(namespace))).toEqual([]);
    expect(await first.getToken().catch((e: unknown) => e)).toBeInstanceOf(tab!.api.ConnectionError);

    const second = tab!.api.createTokenManager({ namespace, mode: 'auto' });
    await second.ready;
    expect(second.getSnapshot().mode).toBe('shared');
    expect(await second.getToken()).toBeTypeOf('string');
    expect((await second.stats()).tabs).toBe(1);
    second.close();
    expect(tab!.api.uncaught).toEqual([]);
  });

  it('after getToken resolves, the snapshot and peekToken already hold its token', async ({ tabs }) => {
    const sessionId = await signIn();
    const [tab, other] = await tabs.open(2, { namespace: uniqueNamespace('ordered') });
    for (let i = 0; i < 30; i++) {
      const manager = (i % 2 === 0 ? tab : other)!.api.manager;
      const jwt = await manager.getToken({ template: 'api', skipCache: true });
      expect(manager.getSnapshot().tokens[`${sessionId}|api||`]?.jwt).toBe(jwt);
      expect(manager.peekToken({ template: 'api' })).toBe(jwt);
    }
  });

  it('a failure no call awaits reaches every tab as an error event', async ({ tabs }) => {
    await signIn();
    const list = await tabs.open(2, { namespace: uniqueNamespace('events') });
    await list[0]!.api.manager.getToken();
    const second = await signIn();
    await control('/__origin/faults', { errorRate: 1, status: 403 });
    // Switching session mints the new session's default token at once, with no caller waiting.
    await list[0]!.api.manager.setActiveSession(second);
    for (const tab of list) {
      const event = await waitFor(() => tab.api.events.find((e) => e.type === 'error'), 5000, 'an error event');
      expect(event.detail).toBeInstanceOf(tab.api.OriginResponseError);
      expect(event.detail).toMatchObject({ code: 'origin_response', status: 403 });
    }
  });

  it("stats count live tabs, mints and this tab's hits", async ({ tabs }) => {
    await signIn();
    const namespace = uniqueNamespace('stats');
    const list = await tabs.open(3, { namespace });
    await list[0]!.api.manager.getToken();
    // The token reaches the mirror over the channel, which may land after the call's own reply.
    await waitFor(
      () => list[0]!.api.manager.getSnapshot().sessionId !== null && Object.keys(list[0]!.api.manager.getSnapshot().tokens).length > 0,
      2000,
      'the mirror',
    );
    await list[0]!.api.manager.getToken();
    const s = await list[0]!.api.manager.stats();
    expect(s.tabs).toBe(3);
    expect(s.mints).toBeGreaterThanOrEqual(1);
    expect(s.tab.hits).toBeGreaterThanOrEqual(1);
    list[2]!.close();
    await waitFor(async () => (await list[0]!.api.manager.stats()).tabs === 2, 5000, 'the closed tab to be dropped');
    expect((await stats()).mints).toBeGreaterThanOrEqual(1);
  });
});
