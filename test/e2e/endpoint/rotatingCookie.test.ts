/**
 * The app's own token endpoint against the development origin's app session routes: a refresh
 * cookie (HttpOnly, SameSite=Lax, Path=/app/session) that rotates at every call, with reuse
 * detection and no reuse interval — the strictest server. Real tabs in Chromium, one SharedWorker,
 * 20 s tokens (so a refresh every few seconds: 15 s of leeway). What is asserted is what the origin
 * itself counted: token answers, requests, reuses, revoked families.
 */
import type { Page } from 'playwright-core';
import { describe } from 'vitest';
import { repeatUntil } from '../../support/wait.ts';
import {
  appStats,
  devOriginOptions,
  endpointTest,
  LIFETIME_S,
  logInThrough,
  noReads,
  openTab,
  origin,
  quietFor,
  readWhile,
  settle,
  signedInTabs,
  waitFor,
  waitStatus,
} from './support.ts';

const it = endpointTest();

const sorted = (tokens: Set<string>) => [...tokens].sort();
const tokenOf = (page: Page) => page.evaluate(() => drillTab().manager.peekToken());

/** Waits until the tab's token is another than `previous`: a refresh has just landed, the next is a few seconds away. */
async function nextToken(page: Page, previous: string | null): Promise<string> {
  await page.waitForFunction(
    (p) => {
      const t = drillTab().manager.peekToken();
      return t !== null && t !== p;
    },
    previous,
    { timeout: 15_000, polling: 50 },
  );
  return (await tokenOf(page))!;
}

describe('the app’s own token endpoint: a rotating refresh cookie, no reuse interval', () => {
  it('five tabs reading through three refresh cycles cost one token request per token they saw, every tab saw every token, and the origin saw no reuse', async ({
    h,
    context,
    expect,
  }) => {
    await origin(h.base, '/__origin/config', { tokenLifetimeSeconds: LIFETIME_S, refreshReuseIntervalSeconds: 0 });
    const pages = await signedInTabs(context, h.base, devOriginOptions('rot-five'), 5);
    // The count and the tabs' token at one still moment: the token in hand is counted already.
    const reads = noReads(pages);
    const before = await settle(pages, reads, async () => (await appStats(h.base)).tokens);
    const requestsBefore = (await appStats(h.base)).tokenRequests;
    const deadline = Date.now() + 45_000;
    await readWhile(pages, (r) => r.seen.size < 4 && Date.now() < deadline, reads);
    const after = await settle(pages, reads, async () => (await appStats(h.base)).tokens);
    const stats = await appStats(h.base);

    expect(reads.failures).toEqual([]);
    expect(reads.seen.size).toBeGreaterThanOrEqual(4); // the token in hand and three refreshes
    // One token request per cycle: every token the origin handed out became the tabs' token, and
    // every tab saw every one of them (five tabs refreshing each for itself would each see their own).
    expect(after - before).toBe(reads.seen.size - 1);
    for (const tab of reads.perTab) expect(sorted(tab)).toEqual(sorted(reads.seen));
    expect(stats.tokenRequests - requestsBefore).toBe(after - before); // nothing refused either
    expect(stats).toMatchObject({ reuses: 0, revoked: 0, families: 1 });
    expect((await pages[0]!.evaluate(() => drillTab().manager.stats())).tabs).toBe(5);
  });

  it('at a wake-up moment — the origin’s clock a lifetime ahead, every tab calling the API through tokens.fetch at once — one refresh serves them all, with no reuse and no tab signed out', async ({
    h,
    context,
    expect,
  }) => {
    await origin(h.base, '/__origin/config', { tokenLifetimeSeconds: LIFETIME_S });
    const pages = await signedInTabs(context, h.base, devOriginOptions('rot-wake'), 5);
    // Each tab waits on a channel to call the API, so all five go in the same millisecond.
    for (const page of pages) {
      await page.evaluate(() => {
        const wake = new BroadcastChannel('wake');
        Object.assign(globalThis, {
          woken: new Promise((resolve) => {
            wake.onmessage = async () => {
              const res = await drillTab().manager.fetch('/app/api/me');
              resolve({ status: res.status, body: (await res.json()) as unknown });
            };
          }),
        });
      });
    }
    // Just after a refresh, so the poller's next one is seconds away and only the wake-up refreshes.
    const stale = await nextToken(pages[0]!, await tokenOf(pages[0]!));
    await origin(h.base, '/__origin/clock', { advanceMs: (LIFETIME_S + 5) * 1000 });
    const before = await appStats(h.base);
    const trigger = await context.newPage();
    await trigger.goto(`${h.base}/__origin/stats`);
    await trigger.evaluate(() => new BroadcastChannel('wake').postMessage('now'));
    const answers = await Promise.all(
      pages.map((p) => p.evaluate(() => (globalThis as unknown as { woken: Promise<{ status: number; body: unknown }> }).woken)),
    );
    const after = await appStats(h.base);

    for (const answer of answers) expect(answer).toEqual({ status: 200, body: { user_id: 'alice' } });
    // Every tab's first call was refused (the token had expired by the API's clock), then retried once.
    expect(after.me - before.me).toBe(2 * pages.length);
    expect(after).toMatchObject({ reuses: 0, revoked: 0 });
    const fresh = await tokenOf(pages[0]!);
    expect(fresh).not.toBe(stale);
    for (const page of pages) {
      expect(await page.evaluate(() => drillTab().manager.getSnapshot().status)).toBe('ok');
      expect(await tokenOf(page)).toBe(fresh);
    }
    // One refresh for the five retries: a tab whose 401 comes back after another tab's retry has
    // brought a new token retries with that token, not with a mint of its own.
    expect(after.tokenRequests - before.tokenRequests).toBe(1);
    expect(after.tokens - before.tokens).toBe(1);
  });

  it('a family logged out from outside signs every tab out at its next refresh, nothing is asked on a timer while signed out, and a new login in one tab with sync() signs every tab in', async ({
    h,
    context,
    expect,
  }) => {
    await origin(h.base, '/__origin/config', { tokenLifetimeSeconds: LIFETIME_S });
    const pages = await signedInTabs(context, h.base, devOriginOptions('rot-revoked'), 3);
    const oldSession = (await pages[0]!.evaluate(() => drillTab().manager.getSnapshot())).sessionId;
    // The browser's own refresh cookie, presented to the logout route from Node: the sign-in ends elsewhere.
    const [cookie] = (await context.cookies(`${h.base}/app/session/token`)).filter((c) => c.name === '__app_refresh');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/app/session' });
    const logout = await fetch(`${h.base}/app/session/logout`, { method: 'POST', headers: { cookie: `${cookie!.name}=${cookie!.value}` } });
    expect(logout.status).toBe(200);

    for (const page of pages) await waitStatus(page, 'signed-out', 10_000);
    for (const page of pages) {
      expect(await page.evaluate(() => drillTab().manager.getToken())).toBeNull();
      expect(await page.evaluate(() => drillTab().manager.getSnapshot())).toMatchObject({ sessionId: null, userId: null, claims: null, tokens: {} });
    }
    expect(await appStats(h.base)).toMatchObject({ revoked: 1, reuses: 0 });

    // Signed out, the endpoint is asked on sync() and when a tab becomes visible — never on a timer.
    // A poll tick that asks nothing leaves no trace, so nothing marks the moment a request on a
    // timer would have gone out: three poll intervals of quiet.
    const quiet = (await appStats(h.base)).tokenRequests;
    await quietFor(3000, 'a token request while signed out');
    expect((await appStats(h.base)).tokenRequests).toBe(quiet);

    await logInThrough(pages[1]!, 'bob');
    expect(await pages[1]!.evaluate(() => drillTab().manager.getSnapshot())).toMatchObject({ status: 'ok', userId: 'bob' });
    for (const page of pages) {
      await page.waitForFunction(() => drillTab().manager.getSnapshot().userId === 'bob', null, { timeout: 2000, polling: 50 });
    }
    const session = (await pages[0]!.evaluate(() => drillTab().manager.getSnapshot())).sessionId;
    expect(session).not.toBeNull();
    expect(session).not.toBe(oldSession);
    for (const page of pages)
      expect(await page.evaluate(() => drillTab().manager.getSnapshot())).toMatchObject({ status: 'ok', sessionId: session, claims: { sub: 'bob' } });
    expect(await appStats(h.base)).toMatchObject({ families: 2, revoked: 1, reuses: 0 });
  });

  it('two workers of one app at once (a deploy changed the worker’s URL) take turns at the endpoint under the grant lock: neither presents a cookie the other rotated away', async ({
    h,
    context,
    expect,
  }) => {
    await origin(h.base, '/__origin/config', { tokenLifetimeSeconds: LIFETIME_S });
    // One SharedWorker per script URL: the same options under two URLs are two engines with one worker key.
    const [oldTab] = await signedInTabs(context, h.base, devOriginOptions('rot-deploy', { workerUrl: '/worker/sharedWorker.ts' }), 1);
    const opened = (await appStats(h.base)).tokens;
    const newTab = await openTab(context, h.base, devOriginOptions('rot-deploy', { workerUrl: '/test/browser/fixtures/closableWorker.ts' }));
    await waitStatus(newTab, 'ok'); // from the token the other worker stored
    for (const tab of [oldTab!, newTab]) expect((await tab.evaluate(() => drillTab().manager.stats())).tabs).toBe(1);
    // A worker that starts from a stored session re-checks it at its first poll: here, one call.
    await waitFor(async () => (await appStats(h.base)).tokens > opened, 5000, 'the new worker’s re-check');
    const before = await appStats(h.base);

    // Both ask at once; each answer is held a while after the origin rotated, so the calls would overlap.
    h.hold.arm('/app/session/token', 1500, 2);
    const [a, b] = await Promise.all([oldTab!, newTab].map((tab) => tab.evaluate(() => drillTab().manager.getToken({ skipCache: true }))));
    expect(a).toBeTypeOf('string');
    expect(b).toBeTypeOf('string');
    expect(a).not.toBe(b);
    const after = await appStats(h.base);
    expect(after.tokens - before.tokens).toBe(2);
    expect(after).toMatchObject({ reuses: 0, revoked: 0 });
  });

  it('with the token route down, every tab serves its token until the real expiry and says degraded, then ok once the route is back', async ({
    h,
    context,
    expect,
  }) => {
    await origin(h.base, '/__origin/config', { tokenLifetimeSeconds: LIFETIME_S });
    const pages = await signedInTabs(context, h.base, devOriginOptions('rot-outage'), 2);
    const token = (await pages[0]!.evaluate(() => drillTab().manager.getToken({ skipCache: true })))!;
    const { expiresAt } = (await pages[0]!.evaluate(() => Object.values(drillTab().manager.getSnapshot().tokens)[0]!))!;
    await origin(h.base, '/__origin/outage', { mode: 'down' });

    for (const page of pages) await waitStatus(page, 'degraded', 15_000);
    // Past the hard cutoff and until its real expiry the token is served, in every tab, never null.
    await repeatUntil(expiresAt - 300, 300, async () => {
      for (const page of pages) expect(await page.evaluate(() => drillTab().manager.getToken())).toBe(token);
    });
    await pages[0]!.waitForFunction((at) => Date.now() > at, expiresAt + 200, { timeout: 5000, polling: 10 });
    for (const page of pages) expect(await page.evaluate(() => drillTab().manager.peekToken())).toBeNull();
    expect(await pages[1]!.evaluate(() => drillTab().manager.getSnapshot().status)).toBe('degraded');

    await origin(h.base, '/__origin/outage', { mode: 'off' });
    for (const page of pages) await waitStatus(page, 'ok', 40_000);
    const fresh = await pages[1]!.evaluate(() => drillTab().manager.getToken());
    expect(fresh).toBeTypeOf('string');
    expect(fresh).not.toBe(token);
    expect(await appStats(h.base)).toMatchObject({ reuses: 0, revoked: 0 });
  });

  it('a token answer held past the 10 s caller timeout is used — degraded meanwhile — and the cookie it rotated is the one presented next', async ({
    h,
    context,
    expect,
  }) => {
    await origin(h.base, '/__origin/config', { tokenLifetimeSeconds: LIFETIME_S });
    const pages = await signedInTabs(context, h.base, devOriginOptions('rot-held'), 2);
    const cookieValue = async () => (await context.cookies(`${h.base}/app/session/token`)).find((c) => c.name === '__app_refresh')?.value;
    const before = await tokenOf(pages[0]!);
    const cookieBefore = await cookieValue();
    const stats = await appStats(h.base);
    // The origin rotates the cookie as the call arrives; its answer, carrying the new one, is held 12 s.
    h.hold.arm('/app/session/token', 12_000);
    const held = pages[0]!.evaluate(() =>
      drillTab()
        .manager.getToken({ skipCache: true })
        .then(
          (t) => ({ t }),
          (e: { code?: string }) => ({ e: String(e.code) }),
        ),
    );

    for (const page of pages) await waitStatus(page, 'degraded', 15_000);
    expect(await held).toEqual({ e: 'origin_unavailable' }); // the caller stopped waiting at 10 s; the worker did not
    for (const page of pages) await waitStatus(page, 'ok', 10_000);
    expect(h.hold).toMatchObject({ held: 1, lost: 0 });
    const late = await tokenOf(pages[1]!);
    expect(late).not.toBe(before);
    const cookieAfterLate = await cookieValue();
    expect(cookieAfterLate).not.toBe(cookieBefore); // the browser stored the late answer's cookie

    // The next call presents that cookie: answered, rotated again, no reuse.
    const next = await pages[1]!.evaluate(() => drillTab().manager.getToken({ skipCache: true }));
    expect(next).toBeTypeOf('string');
    expect(next).not.toBe(late);
    expect(await cookieValue()).not.toBe(cookieAfterLate);
    const after = await appStats(h.base);
    expect(after.tokens - stats.tokens).toBe(2);
    expect(after.tokenRequests - stats.tokenRequests).toBe(2);
    expect(after).toMatchObject({ reuses: 0, revoked: 0 });
  });
});
