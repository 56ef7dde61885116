/**
 * The demo against the app's own token endpoint (`/?origin=endpoint`: the development origin's
 * app session routes, a refresh cookie rotated at every call; and `/?origin=better-auth`), driven
 * in Chromium against the server `npm start` runs: sign in on the demo's sign-in page (the app's own
 * form, then `tokens.sync()`), three tabs on one worker with one token request per cycle, the
 * app's API through `tokens.fetch`, sign-out through `signOut()` reaching every tab. What the page
 * shows is checked against what the servers counted: the chart's marks against the token route's
 * answers, the tiles as every tab signs in and out.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BetterAuthPlugin } from '../../dev/betterAuth/index.ts';
import type { OriginStats } from '../../origin/OriginState.ts';
import { repeatUntil } from '../support/wait.ts';
import {
  sharedWorkerUrls,
  openDemoPage,
  postControl,
  chart,
  peek,
  startDemo,
  waitChartMatches,
  waitStatus,
  waitTiles,
  type DemoHarness,
  type DemoWindow,
} from './support/demoPage.ts';

let demo: DemoHarness;
let base: string;

beforeAll(async () => {
  demo = await startDemo();
  base = demo.base;
});

afterAll(async () => {
  await demo?.close();
});

const control = (path: string, body: object) => postControl(base, path, body);

const appStats = async () => ((await (await fetch(`${base}/__origin/stats`)).json()) as OriginStats).app;
/** 2xx answers of the token route, as the demo's server logged them for the chart. */
const loggedTokens = async (route: 'app' | 'better-auth') =>
  ((await (await fetch(`${base}/demo/endpoint-log?route=${route}`)).json()) as { tokens: number }).tokens;
const tabIds = (pages: Page[]) => Promise.all(pages.map((p) => p.evaluate(() => (globalThis as unknown as DemoWindow).demo.tabId)));
const snapshotOf = (page: Page) => page.evaluate(() => (globalThis as unknown as DemoWindow).tokens.getSnapshot());

const openDemo = (home: string) => openDemoPage(demo, home);

const sharedWorkers = () => sharedWorkerUrls(demo);

describe('the demo against the app’s own token endpoint', () => {
  it('signs in on the app’s own sign-in page, serves three tabs from one worker with one token request per cycle, calls the app’s API and signs out everywhere', async () => {
    await control('/__origin/reset', {});
    await control('/__origin/config', { tokenLifetimeSeconds: 20 });
    const home = `${base}/?origin=endpoint`;
    const first = await openDemo(home);
    await waitStatus(first, 'signed-out');
    expect(await first.locator('#origin-switch a[aria-current]').getAttribute('data-origin')).toBe('endpoint');
    expect(await first.locator('#options-card').isHidden()).toBe(true); // one token per endpoint manager

    // The sign-in page: the app's own form, then tokens.sync(), then back here signed in.
    await first.click('#sign-in');
    await first.waitForURL(`${base}/sign-in.html?origin=endpoint`);
    expect(await first.locator('#better-auth-form').isHidden()).toBe(true); // the other origin's form
    await first.fill('#app-form input[name=user_id]', 'alice');
    await Promise.all([first.waitForURL(home, { timeout: 15_000 }), first.click('#app-form button[type=submit]')]);
    await waitStatus(first, 'ok');
    expect(await snapshotOf(first)).toMatchObject({ userId: 'alice', claims: { sub: 'alice' } });
    await first.waitForFunction(() => document.getElementById('claims')?.textContent?.includes('"sub": "alice"'), undefined, { timeout: 5000 });

    const pages = [first];
    for (let i = 0; i < 2; i++) {
      const page = await openDemo(home);
      await waitStatus(page, 'ok');
      pages.push(page);
    }
    for (const page of pages) {
      expect((await snapshotOf(page)).mode).toBe('shared');
      expect((await page.evaluate(() => (globalThis as unknown as DemoWindow).tokens.stats())).tabs).toBe(3);
    }
    expect(await sharedWorkers()).toHaveLength(1);

    // Every tab holds the one token at every moment; one token request per new token, no reuse.
    const before = (await appStats()).tokens;
    const seen = new Set<string>();
    await repeatUntil(Date.now() + 12_000, 200, async () => {
      for (const t of await Promise.all(pages.map(peek))) seen.add(String(t));
    });
    expect(seen.has('null')).toBe(false);
    const cycle = (await appStats()).tokens - before;
    expect(seen.size).toBeGreaterThanOrEqual(2);
    expect(cycle).toBeLessThanOrEqual(seen.size);
    expect(cycle).toBeGreaterThanOrEqual(seen.size - 1);
    expect(await appStats()).toMatchObject({ reuses: 0, revoked: 0 });

    // The tiles: all three tabs, signed in, each with the one token's tail.
    const ids = await tabIds(pages);
    expect(new Set(ids).size).toBe(3);
    for (const page of pages) await waitTiles(page, ids, 'ok');
    await first.waitForFunction(
      () => {
        const tail = ((globalThis as unknown as DemoWindow).tokens.peekToken() ?? '').slice(-4);
        const tiles = [...document.querySelectorAll('#tab-strip .tile-token')].map((e) => e.textContent);
        return tail !== '' && tiles.length === 3 && tiles.every((t) => t === `…${tail}`);
      },
      undefined,
      { timeout: 15_000 },
    );

    // The chart drew a mark for every token the route answered, the same count the origin keeps.
    const matched = await waitChartMatches(first, () => loggedTokens('app'));
    expect(matched.marks).toBe(matched.count);
    expect(matched.count).toBe((await appStats()).tokens);
    const drawn = await chart(first);
    expect(drawn.tabtokenMints).toBe(drawn.mintMarks);
    expect(drawn.perTabSdkMints).toBeGreaterThan(drawn.tabtokenMints);
    expect(drawn.refusedMarks).toBeGreaterThanOrEqual(1); // the look-up before the sign-in: 401
    await first.waitForFunction((n) => Number(document.getElementById('mints')?.textContent) >= n, matched.count, { timeout: 5000 });

    // The app's API through tokens.fetch, with the token as Bearer.
    await pages[1]!.click('#call-resource');
    await pages[1]!.waitForFunction(() => /^200 .*"user_id": "alice"/s.test(document.getElementById('resource-result')?.textContent ?? ''), undefined, {
      timeout: 10_000,
    });

    // Sign out from the last tab: the logout route revokes the cookie's family; every tab signs out.
    await pages[2]!.click('#sign-out');
    for (const page of pages) {
      await waitStatus(page, 'signed-out');
      expect(await peek(page)).toBeNull();
    }
    for (const page of pages) await waitTiles(page, ids, 'signed-out');
    expect(await appStats()).toMatchObject({ revoked: 1, reuses: 0 });
    for (const page of pages) await page.close();
  });

  it('signs up and in to better-auth on the sign-in page, and its sign-out route signs every tab out', async () => {
    const plugin = demo.server.config.plugins.find((p) => p.name === 'tabtoken:better-auth') as BetterAuthPlugin | undefined;
    const ba = plugin?.api.server();
    if (!ba) throw new Error('the demo server runs no better-auth');
    const home = `${base}/?origin=better-auth`;
    const first = await openDemo(home);
    await waitStatus(first, 'signed-out');
    await first.click('#sign-in');
    await first.waitForURL(`${base}/sign-in.html?origin=better-auth`);
    await Promise.all([first.waitForURL(home, { timeout: 15_000 }), first.click('#better-auth-form button[value=sign-up]')]);
    await waitStatus(first, 'ok');
    const snapshot = await snapshotOf(first);
    expect(snapshot.userId).toMatch(/\S/);
    expect(snapshot.claims).toMatchObject({ sub: snapshot.userId, email: expect.stringMatching(/@example\.test$/) });
    const second = await openDemo(home);
    await waitStatus(second, 'ok');
    expect(await peek(second)).toBe(await peek(first));
    expect(await loggedTokens('better-auth')).toBe(ba.stats().tokens);

    await second.click('#sign-out');
    for (const page of [first, second]) await waitStatus(page, 'signed-out');
    expect(ba.stats().routes['POST /api/auth/sign-out']).toBe(1);
  });
});
