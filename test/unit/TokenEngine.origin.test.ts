/**
 * The engine against the real development origin over real HTTP. Only the engine's clock is fake:
 * the origin signs with real time, so a token minted "60 s" ago on the fake clock still carries an
 * `iat` of a moment ago — exactly the situation of a browser whose clock is off, which the `Date`
 * header rule (SPEC 3) must make irrelevant.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EngineChange } from '../../protocol/types.ts';
import { invoke } from '../../protocol/operations.ts';
import { MemoryTokenStore } from './support/MemoryTokenStore.ts';
import { DevOriginHarness } from './support/DevOriginHarness.ts';
import { req, withOrigin } from './support/engine.ts';
import { FakeClock, flush, until } from './support/FakeClock.ts';

let h: DevOriginHarness;

beforeAll(async () => {
  h = await DevOriginHarness.start({ templates: { api: {}, long: { lifetimeSeconds: 7200 } } });
});
afterEach(async () => {
  await h.control('reset');
});
afterAll(async () => {
  await h.close();
});

type Setup = Awaited<ReturnType<typeof withOrigin>>;

/** Moves the fake clock in poll-sized steps, letting each request land before the next step. */
async function step(s: Setup, totalMs: number, byMs = 5000): Promise<void> {
  for (let done = 0; done < totalMs; done += byMs) {
    await s.clock.advance(Math.min(byMs, totalMs - done));
    await s.settle();
  }
}

describe('stale-while-revalidate', () => {
  it('a fresh token is returned with no request', async () => {
    const s = await withOrigin(h);
    const jwt = s.engine.snapshot().tokens[s.defaultKey]!.jwt;
    const before = s.browser.calls.length;
    await s.clock.advance(40_000);
    expect(await s.engine.getToken(req())).toBe(jwt);
    expect(await s.engine.getToken(req({ leewayInSeconds: 15 }))).toBe(jwt);
    await s.settle();
    expect(s.browser.calls.length).toBe(before);
    s.engine.close();
  });

  it('within the leeway the token is returned stale and exactly one background refresh runs', async () => {
    const s = await withOrigin(h);
    const old = s.engine.snapshot().tokens[s.defaultKey]!.jwt;
    const mints = s.browser.count('mint');
    await s.clock.advance(47_000);
    expect(await s.engine.getToken(req())).toBe(old);
    await s.settle();
    expect(s.browser.count('mint')).toBe(mints + 1);
    const fresh = s.engine.snapshot().tokens[s.defaultKey]!.jwt;
    expect(fresh).not.toBe(old);
    expect(await s.engine.getToken(req())).toBe(fresh);
    await s.settle();
    expect(s.browser.count('mint')).toBe(mints + 1);
    expect(s.engine.stats().refreshes.background).toBe(2); // the first default mint and this one
    s.engine.close();
  });

  it('concurrent stale reads trigger one refresh', async () => {
    const s = await withOrigin(h);
    const old = s.engine.snapshot().tokens[s.defaultKey]!.jwt;
    const mints = s.browser.count('mint');
    await s.clock.advance(47_000);
    const reads = await Promise.all(Array.from({ length: 20 }, () => s.engine.getToken(req())));
    s.engine.refresh(req());
    s.engine.refresh(req());
    expect(new Set(reads)).toEqual(new Set([old]));
    await s.settle();
    expect(s.browser.count('mint')).toBe(mints + 1);
    expect(h.origin.stats().mints).toBeGreaterThanOrEqual(1);
    s.engine.close();
  });

  it('while a background refresh is in flight callers still get the stale token', async () => {
    const s = await withOrigin(h);
    const old = s.engine.snapshot().tokens[s.defaultKey]!.jwt;
    await h.faults({ latencyMs: 400 });
    await s.clock.advance(47_000);
    expect(await s.engine.getToken(req())).toBe(old);
    expect(s.browser.inFlight).toBe(1);
    for (let i = 0; i < 5; i++) expect(await s.engine.getToken(req())).toBe(old);
    expect(s.browser.inFlight).toBe(1);
    expect(s.engine.snapshot().tokens[s.defaultKey]!.jwt).toBe(old); // not cached until it succeeds
    await s.settle();
    expect(s.engine.snapshot().tokens[s.defaultKey]!.jwt).not.toBe(old);
    expect(s.browser.mints()).toHaveLength(2);
    s.engine.close();
  });

  it('a failed background refresh keeps the stale token and is retried', async () => {
    const s = await withOrigin(h);
    const old = s.engine.snapshot().tokens[s.defaultKey]!.jwt;
    await h.faults({ errorRate: 1, status: 503 });
    await s.clock.advance(47_000);
    expect(await s.engine.getToken(req())).toBe(old);
    await s.settle();
    expect(s.engine.snapshot().status).toBe('degraded');
    expect(s.engine.snapshot().tokens[s.defaultKey]!.jwt).toBe(old);
    expect(await s.engine.getToken(req())).toBe(old);
    await s.settle();
    expect(s.browser.mints()).toHaveLength(2); // the retry waits for the backoff (500 ms at random 0.5)
    await h.faults({});
    await s.clock.advance(500);
    await until(() => s.engine.snapshot().status === 'ok');
    expect(s.browser.mints()).toHaveLength(3);
    expect(s.engine.snapshot().tokens[s.defaultKey]!.jwt).not.toBe(old);
    s.engine.close();
  });

  it('below the hard cutoff the caller waits for a fresh mint', async () => {
    const s = await withOrigin(h);
    const old = s.engine.snapshot().tokens[s.defaultKey]!.jwt;
    await s.clock.advance(56_000);
    const jwt = await s.engine.getToken(req());
    expect(jwt).not.toBe(old);
    expect(jwt).toBe(s.engine.snapshot().tokens[s.defaultKey]!.jwt);
    expect(s.browser.mints()).toHaveLength(2);
    expect(s.engine.stats().refreshes.foreground).toBe(1);
    s.engine.close();
  });

  it('a leeway below 15 s is raised to 15 s', async () => {
    const s = await withOrigin(h);
    const old = s.engine.snapshot().tokens[s.defaultKey]!.jwt;
    await s.clock.advance(47_000); // 12–13 s left: inside 15, outside 5
    // Raised where a tab's call reaches the host (the operation table), as every argument is checked there.
    expect(await invoke({ engine: s.engine, mode: 'shared', origins: [] }, 'getToken', req({ leewayInSeconds: 5 }))).toBe(old);
    await s.settle();
    expect(s.browser.mints()).toHaveLength(2);
    s.engine.close();
  });

  it('a larger leeway is honoured', async () => {
    const s = await withOrigin(h);
    const old = s.engine.snapshot().tokens[s.defaultKey]!.jwt;
    await s.clock.advance(31_000); // 28–29 s left
    expect(await s.engine.getToken(req())).toBe(old);
    await s.settle();
    expect(s.browser.mints()).toHaveLength(1);
    expect(await s.engine.getToken(req({ leewayInSeconds: 30 }))).toBe(old);
    await s.settle();
    expect(s.browser.mints()).toHaveLength(2);
    s.engine.close();
  });

  it('concurrent misses from many callers share one request', async () => {
    const s = await withOrigin(h);
    const jwts = await Promise.all(Array.from({ length: 25 }, () => s.engine.getToken(req({ template: 'api' }))));
    expect(new Set(jwts).size).toBe(1);
    expect(s.browser.mints((c) => c.url.pathname.endsWith('/tokens/api'))).toHaveLength(1);
    expect(h.origin.stats().requests.mint).toBe(2);
    s.engine.close();
  });

  it('different templates, organizations or expiresInSeconds never share an entry', async () => {
    const s = await withOrigin(h);
    const requests = [
      req(),
      req({ template: 'api' }),
      req({ template: 'long' }),
      req({ organizationId: 'org_1' }),
      req({ organizationId: 'org_2' }),
      req({ expiresInSeconds: 120 }),
      req({ template: 'api', organizationId: 'org_1' }),
      req({ template: 'api', expiresInSeconds: 120 }),
    ];
    const jwts: string[] = [];
    for (const r of requests) jwts.push((await s.engine.getToken(r))!);
    expect(new Set(jwts).size).toBe(requests.length);
    expect(Object.keys(s.engine.snapshot().tokens).sort()).toEqual(
      [
        `${s.sessionId}|||`,
        `${s.sessionId}|api||`,
        `${s.sessionId}|long||`,
        `${s.sessionId}||org_1|`,
        `${s.sessionId}||org_2|`,
        `${s.sessionId}|||120`,
        `${s.sessionId}|api|org_1|`,
        `${s.sessionId}|api||120`,
      ].sort(),
    );
    expect(decodeJwt(jwts[3]!).org_id).toBe('org_1');
    expect(decodeJwt(jwts[4]!).org_id).toBe('org_2');
    expect(decodeJwt(jwts[0]!).org_id).toBeUndefined();
    expect(s.browser.mints()).toHaveLength(requests.length);
    for (const r of requests) await s.engine.getToken(r);
    expect(s.browser.mints()).toHaveLength(requests.length);
    s.engine.close();
  });

  it('expiresInSeconds without a template mints a new token', async () => {
    const s = await withOrigin(h);
    const defaultJwt = s.engine.snapshot().tokens[s.defaultKey]!.jwt;
    const jwt = (await s.engine.getToken(req({ expiresInSeconds: 120 })))!;
    expect(jwt).not.toBe(defaultJwt);
    const claims = decodeJwt(jwt);
    expect(claims.exp! - claims.iat!).toBe(120);
    const call = s.browser.mints().at(-1)!;
    expect(call.url.pathname).toBe(`/v1/client/sessions/${s.sessionId}/tokens`);
    expect(new URLSearchParams(call.body).get('expires_in_seconds')).toBe('120');
    expect(s.engine.snapshot().tokens[`${s.sessionId}|||120`]?.jwt).toBe(jwt);
    expect(s.engine.snapshot().tokens[s.defaultKey]?.jwt).toBe(defaultJwt);
    s.engine.close();
  });
});

describe('sign-out', () => {
  it('a 401 signs out', async () => {
    const s = await withOrigin(h);
    const changes: EngineChange[] = [];
    s.engine.subscribe((c) => changes.push(c));
    await s.engine.getToken(req({ template: 'api' }));
    await s.browser.endSession(s.sessionId); // ended elsewhere: the next mint answers 401 session_ended
    expect(await s.engine.getToken(req({ skipCache: true }))).toBeNull();
    const snap = s.engine.snapshot();
    expect(snap).toMatchObject({ status: 'signed-out', sessionId: null, tokens: {} });
    // The api token, then one message for the sign-out (its two evictions and the status in it).
    expect(changes.map((c) => c.type)).toEqual(['token', 'signout']);
    expect(await s.engine.getToken(req())).toBeNull();
    expect(await s.engine.getToken(req({ template: 'api' }))).toBeNull();
    s.engine.close();
  });

  it('404 session_not_found signs out but template_not_found does not', async () => {
    const s = await withOrigin(h);
    await expect(s.engine.getToken(req({ template: 'nope' }))).rejects.toMatchObject({
      code: 'origin_response',
      status: 404,
      errors: [{ code: 'template_not_found' }],
    });
    expect(s.engine.snapshot()).toMatchObject({ status: 'ok', sessionId: s.sessionId });
    expect(await s.engine.getToken(req())).toMatch(/^ey/);

    // Taken as given (the `sessionId` option of a tab), not checked up front: the mint answers 404.
    await s.engine.useSession('sess_unknown_to_the_origin');
    await until(() => s.engine.snapshot().status === 'signed-out');
    const call = s.browser.mints().at(-1)!;
    expect(call.url.pathname).toContain('sess_unknown_to_the_origin');
    expect(s.engine.snapshot()).toMatchObject({ sessionId: null, tokens: {} });
    expect(await s.engine.getToken(req())).toBeNull();
    s.engine.close();
  });

  it('signOut() ends the session at the origin, clears the store, and a sign-in made elsewhere is picked up', async () => {
    const store = new MemoryTokenStore();
    const s = await withOrigin(h, { store, tabs: 1 });
    await s.engine.getToken(req({ template: 'api' }));
    await s.engine.flush();
    expect(Object.keys(store.dump().tokens)).toHaveLength(2);
    expect(store.dump().lastActive[s.sessionId]).toBeDefined();

    await s.engine.signOut();
    await s.engine.flush();
    expect(s.browser.count('end')).toBe(1);
    expect(store.dump()).toEqual({ tokens: {}, lastActive: {}, activeSessionId: null, activeUserId: null });
    expect(s.engine.snapshot()).toMatchObject({ status: 'signed-out', sessionId: null, tokens: {} });
    expect(await s.engine.getToken(req())).toBeNull();

    // Signed out, the engine re-reads GET {client} every poll interval and stays signed out…
    const clientReads = s.browser.count('client');
    await step(s, 15_000);
    expect(s.browser.count('client')).toBe(clientReads + 3);
    expect(s.engine.snapshot().status).toBe('signed-out');

    // …until a sign-in made elsewhere (another tab) shows up.
    const next = await s.browser.signIn('alice');
    await step(s, 5000);
    await until(() => s.engine.snapshot().tokens[`${next}|||`]);
    expect(s.engine.snapshot()).toMatchObject({ status: 'ok', sessionId: next });
    s.engine.close();
  });

  it('signOut() signs out locally even when the origin cannot be reached', async () => {
    const s = await withOrigin(h);
    s.browser.offline = true;
    await s.engine.signOut();
    expect(s.engine.snapshot()).toMatchObject({ status: 'signed-out', tokens: {} });
    expect(s.errors).toEqual([expect.objectContaining({ code: 'origin_unavailable' })]);
    s.engine.close();
  });

  it('setActiveSession(null) signs out locally without calling end, and discovery does not bring the session back', async () => {
    const s = await withOrigin(h, { tabs: 1 });
    await s.engine.setActiveSession(null);
    expect(s.engine.snapshot()).toMatchObject({ status: 'signed-out', sessionId: null, tokens: {} });
    await step(s, 10_000);
    expect(s.browser.count('end')).toBe(0);
    expect(s.browser.count('client')).toBeGreaterThanOrEqual(3);
    expect(s.engine.snapshot().status).toBe('signed-out');
    await s.engine.setActiveSession(s.sessionId);
    await until(() => s.engine.snapshot().tokens[s.defaultKey]);
    expect(s.engine.snapshot()).toMatchObject({ status: 'ok', sessionId: s.sessionId });
    s.engine.close();
  });

  it('a stored session that GET {client} no longer lists is signed out', async () => {
    const store = new MemoryTokenStore();
    const a = await withOrigin(h, { store });
    await a.engine.flush();
    a.engine.close();
    await a.browser.endSession(a.sessionId);

    const clock = new FakeClock(a.clock.now() + 2000);
    const browser = h.browser(clock);
    browser.cookie = a.browser.cookie;
    const b = await withOrigin(h, { store, clock, browser, signIn: false, tabs: 1 });
    expect(b.engine.snapshot()).toMatchObject({ status: 'ok', sessionId: a.sessionId });
    await step(b, 5000);
    expect(b.engine.snapshot()).toMatchObject({ status: 'signed-out', sessionId: null, tokens: {} });
    await b.engine.flush();
    expect(store.dump().tokens).toEqual({});
    b.engine.close();
  });
});

describe('outage', () => {
  it('a 422 missing_expired_token is retried once with expired_token and succeeds', async () => {
    const s = await withOrigin(h);
    const old = s.engine.snapshot().tokens[s.defaultKey]!.jwt;
    await h.outage('missing_expired_token');
    await s.clock.advance(120_000); // the last token is long expired: it is still the one to send
    const jwt = (await s.engine.getToken(req()))!;
    expect(jwt).not.toBe(old);
    const [first, second] = s.browser.mints().slice(-2);
    expect(first!.url.searchParams.has('expired_token')).toBe(false);
    expect(second!.url.searchParams.get('expired_token')).toBe(old);
    expect(s.browser.mints()).toHaveLength(3);
    expect(decodeProtectedHeader(jwt).oiat).toBe(decodeProtectedHeader(old).oiat);
    expect(s.engine.snapshot()).toMatchObject({ status: 'ok' });
    // A template token in outage mode uses the session's lastActiveToken too.
    expect(await s.engine.getToken(req({ template: 'api' }))).toMatch(/^ey/);
    expect(s.browser.mints().at(-1)!.url.searchParams.get('expired_token')).toBe(jwt);
    s.engine.close();
  });

  it('the lastActiveToken is persisted, so the outage re-mint works after a reload', async () => {
    const store = new MemoryTokenStore();
    const a = await withOrigin(h, { store });
    const old = a.engine.snapshot().tokens[a.defaultKey]!.jwt;
    await a.engine.flush();
    a.engine.close();
    await h.outage('missing_expired_token');
    const clock = new FakeClock(a.clock.now() + 5 * 60_000); // the stored token has long expired
    const browser = h.browser(clock);
    browser.cookie = a.browser.cookie;
    const b = await withOrigin(h, { store, clock, browser, signIn: false, waitDefault: false });
    expect(b.engine.snapshot().tokens).toEqual({});
    const jwt = await b.engine.getToken(req());
    expect(jwt).toMatch(/^ey/);
    expect(browser.mints().map((c) => c.url.searchParams.get('expired_token'))).toEqual([null, old]);
    b.engine.close();
  });

  it('the same without a lastActiveToken fails with missing_expired_token', async () => {
    await h.outage('missing_expired_token');
    const s = await withOrigin(h, { waitDefault: false });
    await until(() => s.errors.length === 1);
    expect(s.errors[0]).toMatchObject({ code: 'missing_expired_token', name: 'MissingExpiredTokenError' });
    await expect(s.engine.getToken(req())).rejects.toMatchObject({ code: 'missing_expired_token' });
    expect(s.browser.mints()).toHaveLength(2);
    expect(s.browser.mints().every((c) => !c.url.searchParams.has('expired_token'))).toBe(true);
    expect(s.engine.snapshot()).toMatchObject({ status: 'ok', tokens: {} });
    s.engine.close();
  });

  it('an unreachable origin sets degraded, the token is served past the hard cutoff until its real expiry, then origin_unavailable (never null), then recovery to ok', async () => {
    const s = await withOrigin(h, { tabs: 1 });
    const old = s.engine.snapshot().tokens[s.defaultKey]!.jwt;
    const expiresAt = s.engine.snapshot().tokens[s.defaultKey]!.expiresAt;
    const statuses: string[] = [];
    s.engine.subscribe((c) => c.type === 'status' && statuses.push(c.status));
    await h.outage('down');
    await step(s, 55_000);
    expect(s.engine.snapshot().status).toBe('degraded');
    await s.clock.advance(1000); // 3–4 s left: below the 5 s hard cutoff
    expect(expiresAt - s.clock.now()).toBeLessThanOrEqual(5000);
    expect(await s.engine.getToken(req())).toBe(old);
    await s.clock.advance(expiresAt - s.clock.now() - 100); // 100 ms before real expiry
    expect(await s.engine.getToken(req())).toBe(old);
    await s.clock.advance(100);
    const waiting = s.engine.getToken(req());
    const outcome = waiting.then(
      (v) => ({ value: v }),
      (e: unknown) => ({ error: e }),
    );
    await s.clock.advance(9_000);
    await s.settle();
    await s.clock.advance(1_000);
    expect(await outcome).toEqual({ error: expect.objectContaining({ code: 'origin_unavailable', name: 'OriginUnavailableError' }) });

    await h.outage('off');
    await step(s, 30_000, 1000);
    await until(() => s.engine.snapshot().status === 'ok');
    const fresh = await s.engine.getToken(req());
    expect(fresh).not.toBe(old);
    expect(statuses).toEqual(['degraded', 'ok']);
    s.engine.close();
  });

  it('a cold start with the origin unreachable resolves degraded with no session, rejects origin_unavailable, and recovers', async () => {
    const clock = new FakeClock();
    const browser = h.browser(clock);
    await browser.signIn();
    browser.offline = true;
    const s = await withOrigin(h, { clock, browser, signIn: false, tabs: 1 });
    expect(s.engine.snapshot()).toMatchObject({ status: 'degraded', sessionId: null });
    const outcome = s.engine.getToken(req()).then(
      (v) => ({ value: v }),
      (e: unknown) => ({ error: e }),
    );
    await step(s, 10_000, 1000);
    expect(await outcome).toEqual({ error: expect.objectContaining({ code: 'origin_unavailable' }) });
    browser.offline = false;
    await step(s, 30_000, 1000);
    await until(() => s.engine.snapshot().status === 'ok');
    expect(s.engine.snapshot().sessionId).toMatch(/^sess_/);
    expect(await s.engine.getToken(req())).toMatch(/^ey/);
    s.engine.close();
  });
});

describe('time', () => {
  it('a client clock hours off changes nothing', async () => {
    for (const offsetMs of [-3 * 3_600_000, 5 * 3_600_000, 0]) {
      const clock = new FakeClock(Date.now() + offsetMs);
      const s = await withOrigin(h, { clock });
      const token = s.engine.snapshot().tokens[s.defaultKey]!;
      const remaining = token.expiresAt - clock.now();
      expect(remaining).toBeGreaterThan(58_000);
      expect(remaining).toBeLessThanOrEqual(60_000);
      await clock.advance(40_000);
      expect(await s.engine.getToken(req())).toBe(token.jwt);
      await s.settle();
      expect(s.browser.mints()).toHaveLength(1);
      await clock.advance(7_000);
      expect(await s.engine.getToken(req())).toBe(token.jwt);
      await s.settle();
      expect(s.browser.mints()).toHaveLength(2);
      s.engine.close();
    }
  });
});

describe('poller', () => {
  it('keeps read keys fresh and forgets keys not read for 10 minutes', async () => {
    const s = await withOrigin(h, { tabs: 1 });
    const apiKey = `${s.sessionId}|api||`;
    const start = s.clock.now();
    await s.engine.getToken(req({ template: 'api' }));
    let hardHits = 0;
    for (let t = 0; t < 12 * 60_000; t += 5000) {
      await s.clock.advance(5000);
      await s.settle();
      const api = s.engine.snapshot().tokens[apiKey];
      const since = s.clock.now() - start;
      if (since < 10 * 60_000 && (!api || api.expiresAt - s.clock.now() <= 5000)) hardHits++;
    }
    expect(hardHits).toBe(0);
    const apiMints = s.browser.mints((c) => c.url.pathname.endsWith('/tokens/api')).map((c) => c.at - start);
    expect(apiMints.length).toBeGreaterThanOrEqual(12);
    expect(Math.max(...apiMints)).toBeLessThanOrEqual(10 * 60_000);
    const defaultMints = s.browser.mints((c) => c.url.pathname.endsWith('/tokens')).map((c) => c.at - start);
    expect(Math.max(...defaultMints)).toBeGreaterThan(11 * 60_000); // the default token is always kept fresh
    // Forgotten and expired, the key has left the snapshot too.
    expect(s.engine.snapshot().tokens[apiKey]).toBeUndefined();
    // A tab reading it again (its peek starts a refresh, then it reports the read) brings it back.
    s.engine.refresh(req({ template: 'api' }));
    s.engine.noteReads([{ key: apiKey, request: req({ template: 'api' }) }]);
    await step(s, 60_000);
    expect(s.browser.mints((c) => c.url.pathname.endsWith('/tokens/api')).length).toBeGreaterThanOrEqual(apiMints.length + 2);
    s.engine.close();
  });
});

describe('persistence', () => {
  it('restores tokens without a request while they are fresh and keeps their expiresAt', async () => {
    const store = new MemoryTokenStore();
    const a = await withOrigin(h, { store });
    await a.engine.getToken(req({ template: 'api' }));
    await a.engine.flush();
    const saved = a.engine.snapshot().tokens;
    a.engine.close();

    const clock = new FakeClock(a.clock.now() + 10_000);
    const browser = h.browser(clock);
    browser.cookie = a.browser.cookie;
    const b = await withOrigin(h, { store, clock, browser, signIn: false });
    expect(browser.calls).toHaveLength(0);
    expect(b.engine.snapshot()).toMatchObject({ status: 'ok', sessionId: a.sessionId, storage: 'indexeddb' });
    expect(b.engine.snapshot().tokens).toEqual(saved);
    expect(await b.engine.getToken(req())).toBe(saved[a.defaultKey]!.jwt);
    expect(await b.engine.getToken(req({ template: 'api' }))).toBe(saved[`${a.sessionId}|api||`]!.jwt);
    await flush(10);
    expect(browser.calls).toHaveLength(0);
    b.engine.setTabCount(1);
    await step(b, 5000); // the stored session is re-checked in the background on the first tick
    expect(browser.count('client')).toBe(1);
    expect(browser.count('mint')).toBe(0);
    b.engine.close();
  });

  it('tokens longer than one hour are not persisted', async () => {
    const store = new MemoryTokenStore();
    const s = await withOrigin(h, { store });
    await s.engine.getToken(req({ expiresInSeconds: 7200 }));
    await s.engine.getToken(req({ template: 'long' }));
    await s.engine.getToken(req({ expiresInSeconds: 3600 }));
    await s.engine.flush();
    expect(Object.keys(store.dump().tokens).sort()).toEqual([`${s.sessionId}|||`, `${s.sessionId}|||3600`].sort());
    expect(Object.keys(s.engine.snapshot().tokens)).toHaveLength(4);
    s.engine.close();
  });

  it('a failing store leaves the engine in memory and says so', async () => {
    const store = new MemoryTokenStore();
    const s = await withOrigin(h, { store });
    expect(s.engine.snapshot().storage).toBe('indexeddb');
    store.failWith = new Error('QuotaExceededError');
    await s.engine.getToken(req({ template: 'api' }));
    await s.engine.flush();
    expect(s.engine.snapshot().storage).toBe('memory');
    expect(await s.engine.getToken(req({ template: 'api' }))).toMatch(/^ey/);
    expect(s.errors).toContainEqual(expect.objectContaining({ message: 'QuotaExceededError' }));
    s.engine.close();
  });
});
