/**
 * The app's own token endpoint in local mode (no SharedWorker: the page's `SharedWorker` is
 * removed): the engine runs in the leader tab, elected by a Web Lock, and only it calls the
 * endpoint — counted per tab from each page's own requests. A leader that closes with a call in
 * flight cannot keep it: the browser aborts the request, and the cookie the server rotated for it
 * never reaches the browser. The next leader then presents a cookie the server has rotated away:
 * with a reuse interval (the set-up the README recommends) the server answers it; without one, it
 * sees reuse and revokes the sign-in — both are shown, so the README's advice stands on a test.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { describe } from 'vitest';
import {
  appStats,
  countRequests,
  devOriginOptions,
  endpointTest,
  LIFETIME_S,
  noReads,
  origin,
  readWhile,
  signedInTabs,
  waitFor,
  waitStatus,
  type EndpointHarness,
} from './support.ts';

const it = endpointTest();
const TOKEN_PATH = '/app/session/token';
const LOCAL = { nosw: true };

/** Three local-mode tabs signed in, each with its own count of calls to the token route. */
async function localTabs(h: EndpointHarness, context: BrowserContext, namespace: string): Promise<{ pages: Page[]; calls: Map<Page, { calls: number }> }> {
  const calls = new Map<Page, { calls: number }>();
  const pages = await signedInTabs(context, h.base, devOriginOptions(namespace), 3, 'alice', LOCAL, (page) => calls.set(page, countRequests(page, TOKEN_PATH)));
  return { pages, calls };
}

const refreshCookie = async (context: BrowserContext, base: string) =>
  (await context.cookies(`${base}${TOKEN_PATH}`)).find((c) => c.name === '__app_refresh')?.value;

/**
 * Closes the leader while its call is at the server: the origin has rotated the cookie and its
 * answer is held 3 s, so the browser aborts the request with the new cookie still on the way —
 * `lost` counts it once the server finds the connection closed. Returns the tabs left and the
 * refresh cookie the browser held before.
 */
async function closeLeaderMidCall(h: EndpointHarness, context: BrowserContext, pages: Page[]): Promise<{ left: Page[]; cookieBefore: string | undefined }> {
  const leader = pages[0]!;
  const cookieBefore = await refreshCookie(context, h.base);
  h.hold.arm(TOKEN_PATH, 3000);
  await leader.evaluate(
    () =>
      void drillTab()
        .manager.getToken({ skipCache: true })
        .catch(() => {}),
  );
  await waitFor(() => h.hold.held === 1, 5000, 'the leader’s call to reach the server');
  await leader.close();
  await waitFor(() => h.hold.lost === 1, 5000, 'the held answer to find its connection closed');
  return { left: pages.slice(1), cookieBefore };
}

describe('the app’s own token endpoint in local mode', () => {
  it('only the leader tab calls the endpoint: its calls are all the server saw, and the other tabs read every token it got', async ({ h, context, expect }) => {
    await origin(h.base, '/__origin/config', { tokenLifetimeSeconds: LIFETIME_S });
    const before = await appStats(h.base);
    const { pages, calls } = await localTabs(h, context, 'local-leader');
    expect(await pages[2]!.evaluate(() => drillTab().manager.getSnapshot().mode)).toBe('local');
    const deadline = Date.now() + 30_000;
    const reads = await readWhile(pages, (r) => r.seen.size < 2 && Date.now() < deadline, noReads(pages));
    const after = await appStats(h.base);

    expect(reads.failures).toEqual([]);
    expect(reads.seen.size).toBeGreaterThanOrEqual(2);
    // The first tab leads (it took the lock first); the others never call the endpoint themselves.
    const perTab = pages.map((page) => calls.get(page)!.calls);
    expect(perTab[0]).toBeGreaterThanOrEqual(3); // the look-up at start, the sync after the sign-in, the refreshes
    expect(perTab.slice(1)).toEqual([0, 0]);
    expect(after.tokenRequests - before.tokenRequests).toBe(perTab[0]);
    expect(after).toMatchObject({ reuses: 0, revoked: 0 });
  });

  it('with a reuse interval at the server, a leader closing with a call in flight costs nothing: its answer is lost, the next leader’s call is answered, no reuse, every tab stays signed in', async ({
    h,
    context,
    expect,
  }) => {
    await origin(h.base, '/__origin/config', { tokenLifetimeSeconds: LIFETIME_S, refreshReuseIntervalSeconds: 30 });
    const { pages, calls } = await localTabs(h, context, 'local-handover');
    const { left, cookieBefore } = await closeLeaderMidCall(h, context, pages);

    // The new leader presents the cookie the lost answer rotated away (at its first poll, re-checking
    // the stored session, or for this follower's read): answered within the interval.
    const token = await left[1]!.evaluate(() => drillTab().manager.getToken({ skipCache: true }));
    expect(token).toBeTypeOf('string');
    expect(left.filter((page) => calls.get(page)!.calls > 0)).toHaveLength(1); // one new leader calls
    expect(await appStats(h.base)).toMatchObject({ reuses: 0, revoked: 0 });
    // The grace answer carried the family's live cookie, so the next rotation is an ordinary one.
    expect(await refreshCookie(context, h.base)).not.toBe(cookieBefore);
    expect(await left[0]!.evaluate(() => drillTab().manager.getToken({ skipCache: true }))).toBeTypeOf('string');
    expect(await appStats(h.base)).toMatchObject({ reuses: 0, revoked: 0 });
    for (const page of left) expect(await page.evaluate(() => drillTab().manager.getSnapshot().status)).toBe('ok');
  });

  it('without a reuse interval, the same lost answer makes the server see reuse: it revokes the sign-in and every tab signs out, with no read left hanging', async ({
    h,
    context,
    expect,
  }) => {
    await origin(h.base, '/__origin/config', { tokenLifetimeSeconds: LIFETIME_S, refreshReuseIntervalSeconds: 0 });
    const { pages } = await localTabs(h, context, 'local-strict');
    const { left } = await closeLeaderMidCall(h, context, pages);

    // The new leader presents the cookie the lost answer rotated away: reuse, as the server sees it.
    const token = await left[1]!.evaluate(() => drillTab().manager.getToken({ skipCache: true }));
    expect(token).toBeNull();
    expect(await appStats(h.base)).toMatchObject({ reuses: 1, revoked: 1 });
    for (const page of left) {
      await waitStatus(page, 'signed-out', 5000);
      expect(await page.evaluate(() => drillTab().manager.getToken())).toBeNull();
    }
  });
});
