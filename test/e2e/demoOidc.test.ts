/**
 * The demo in its OpenID Connect mode (`/?origin=oidc`), driven in Chromium against the server
 * `npm start` runs (the demo's Vite config, with oidc-provider beside it): sign in on the
 * provider's own login page, open two more tabs, watch the refreshes, take the provider down and
 * back, sign out from the last tab through the provider's logout. What the page shows is checked
 * against what the provider itself recorded: the chart's marks against its refresh answers, the
 * tab strip's tiles as every tab signs in and out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeDevLogin } from '../../dev/oidc/completeDevLogin.ts';
import type { OidcProviderPlugin } from '../../dev/oidc/oidcProviderPlugin.ts';
import type { RunningOidcProvider } from '../../dev/oidc/startOidcProvider.ts';
import { repeatUntil } from '../support/wait.ts';
import {
  sharedWorkerUrls,
  openDemoPage,
  chart,
  peek,
  startDemo,
  status,
  waitChartMatches,
  waitStatus,
  waitTiles,
  type DemoHarness,
  type DemoWindow,
} from './support/demoPage.ts';

let demo: DemoHarness;
let base: string;
let op: RunningOidcProvider;

beforeAll(async () => {
  demo = await startDemo();
  base = demo.base;
  // The page's settings are answered once the provider runs: then the plugin hands it over.
  expect((await fetch(`${base}/demo/oidc-config`)).status).toBe(200);
  const plugin = demo.server.config.plugins.find((p) => p.name === 'tabtoken:oidc-provider') as OidcProviderPlugin | undefined;
  const running = plugin?.api.provider();
  if (!running) throw new Error('the demo server runs no OpenID provider');
  op = running;
  // 20 s access tokens (the demo's 60 s is for people): a refresh every few seconds.
  op.settings.accessTokenTtlSeconds = 20;
});

afterAll(async () => {
  await demo?.close();
});

const home = () => `${base}/?origin=oidc`;

/** The refresh-token grants the provider answered, from its own event log. */
const providerRefreshes = () => op.events.events.filter((e) => e.type === 'refresh').length;

const openDemo = () => openDemoPage(demo, home());

const sharedWorkers = () => sharedWorkerUrls(demo);

describe('the demo against the OpenID provider', () => {
  it("signs in on the provider's login page, serves three tabs from one worker with one refresh per cycle, rides out a provider outage and signs out everywhere", async () => {
    const first = await openDemo();
    await waitStatus(first, 'signed-out');
    expect(await first.evaluate(() => (globalThis as unknown as DemoWindow).demo.origin)).toBe('oidc');
    // The switch shows the provider chosen, and links back to the bare page.
    expect(await first.locator('#origin-switch a[aria-current]').getAttribute('data-origin')).toBe('oidc');
    expect(await first.locator('#origin-switch a[data-origin=clerk]').getAttribute('href')).toBe('/');

    // Sign in: the provider's login (and consent) page, the redirect page, back to this address.
    await first.click('#sign-in');
    const back = await completeDevLogin(first, { issuer: op.issuer, login: 'alice' });
    expect(new URL(back).pathname).toBe('/oidc/callback');
    await first.waitForURL(home(), { timeout: 20_000 });
    await waitStatus(first, 'ok');
    const snapshot = await first.evaluate(() => (globalThis as unknown as DemoWindow).tokens.getSnapshot());
    expect(snapshot.userId).toBe('alice');
    expect(snapshot.claims).toMatchObject({ sub: 'alice', iss: op.issuer });
    // The claims panel shows the ID token's claims; the meter the opaque access token's tail.
    await first.waitForFunction(() => document.getElementById('claims')?.textContent?.includes('"sub": "alice"'), undefined, { timeout: 5000 });
    const token = String(await peek(first));
    await first.waitForFunction((tail) => document.getElementById('token-tail')?.textContent?.startsWith(`…${tail}`), token.slice(-4), { timeout: 5000 });

    const pages = [first];
    for (let i = 0; i < 2; i++) {
      const page = await openDemo();
      await waitStatus(page, 'ok');
      pages.push(page);
    }
    for (const page of pages) {
      expect(await page.evaluate(() => (globalThis as unknown as DemoWindow).tokens.getSnapshot().mode)).toBe('shared');
      expect((await page.evaluate(() => (globalThis as unknown as DemoWindow).tokens.stats())).tabs).toBe(3);
    }
    const workers = await sharedWorkers();
    expect(workers).toHaveLength(1);

    // Every tab holds the same token as the others at every moment; one refresh per new token.
    const before = providerRefreshes();
    const seen = new Set<string>();
    await repeatUntil(Date.now() + 12_000, 200, async () => {
      const now = await Promise.all(pages.map(peek));
      for (const t of now) seen.add(String(t));
    });
    expect(seen.has('null')).toBe(false);
    const cycle = providerRefreshes() - before;
    expect(seen.size).toBeGreaterThanOrEqual(2);
    expect(cycle).toBeLessThanOrEqual(seen.size);
    expect(cycle).toBeGreaterThanOrEqual(seen.size - 1);
    // The provider saw one grant, every refresh presenting its newest refresh token, none refused.
    const grants = op.events.grants();
    expect(grants).toHaveLength(1);
    expect(grants[0]!.everyRefreshUsedNewest).toBe(true);
    expect(grants[0]!.invalidGrants).toBe(0);

    // The tab strip of every tab shows all three, signed in, each with the one token's tail.
    const ids = await Promise.all(pages.map((p) => p.evaluate(() => (globalThis as unknown as DemoWindow).demo.tabId)));
    expect(new Set(ids).size).toBe(3);
    for (const page of pages) await waitTiles(page, ids, 'ok');
    for (const page of pages) {
      await page.waitForFunction(
        () => {
          const tail = ((globalThis as unknown as DemoWindow).tokens.peekToken() ?? '').slice(-4);
          const tiles = [...document.querySelectorAll('#tab-strip .tile-token')].map((e) => e.textContent);
          return tail !== '' && tiles.length === 3 && tiles.every((t) => t === `…${tail}`);
        },
        undefined,
        { timeout: 15_000 },
      );
    }

    // The chart drew a mark for every refresh the provider answered; the counter shows its count.
    const matched = await waitChartMatches(first, providerRefreshes);
    expect(matched.marks).toBe(matched.count);
    expect(matched.count).toBeGreaterThanOrEqual(2);
    const drawn = await chart(first);
    expect(drawn.tabtokenMints).toBe(drawn.mintMarks);
    expect(drawn.perTabSdkMints).toBeGreaterThan(drawn.tabtokenMints);
    expect(drawn.bands.map((b) => b.status)).toContain('signed-out'); // before the sign-in
    await first.waitForFunction((n) => Number(document.getElementById('mints')?.textContent) >= n, matched.count, { timeout: 5000 });

    // The resource card: tokens.fetch sends the DPoP-bound token with a proof to the provider's API.
    expect(await first.locator('#options-card').isHidden()).toBe(true);
    await first.click('#call-resource');
    await first.waitForFunction(() => /^200 .*"sub": "alice"/s.test(document.getElementById('resource-result')?.textContent ?? ''), undefined, {
      timeout: 10_000,
    });

    // Provider outage: the proxy in front of it stops; the tabs serve the cached token, degraded.
    expect(await first.locator('input[name=outage]').count()).toBe(2); // off and down: no missing_expired_token
    await first.click('input[name=outage][value=down]');
    await expect.poll(() => op.proxy.running, { timeout: 5000 }).toBe(false);
    await first.click('#refresh');
    for (const page of pages) {
      await waitStatus(page, 'degraded');
      expect(await peek(page)).not.toBeNull();
    }
    await waitTiles(pages[1]!, ids, 'degraded');
    // Another tab's radio buttons show the mode in force.
    await pages[2]!.waitForFunction(() => document.querySelector<HTMLInputElement>('input[name=outage][value=down]')?.checked === true, undefined, {
      timeout: 5000,
    });
    await first.click('input[name=outage][value=off]');
    await expect.poll(() => op.proxy.running, { timeout: 5000 }).toBe(true);
    for (const page of pages) await waitStatus(page, 'ok', 40_000);
    await waitTiles(first, ids, 'ok');
    const afterOutage = await waitChartMatches(first, providerRefreshes);
    expect(afterOutage.marks).toBe(afterOutage.count);
    expect(op.events.grants()[0]!.invalidGrants).toBe(0);

    // Sign out from the last tab: every other tab at once, that one after the provider's logout page.
    const last = pages[2]!;
    await last.click('#sign-out');
    for (const page of pages.slice(0, 2)) {
      await waitStatus(page, 'signed-out');
      expect(await peek(page)).toBeNull();
    }
    await last.waitForURL((url) => url.origin === new URL(op.issuer).origin, { timeout: 10_000 });
    await Promise.all([last.waitForURL(home(), { timeout: 15_000 }), last.getByRole('button', { name: 'Yes, sign me out' }).click()]);
    await waitStatus(last, 'signed-out');
    expect(await status(first)).toBe('signed-out');
    // The provider revoked the grant (the library's RFC 7009 call, then the logout).
    expect(op.events.grants()[0]!.revoked).not.toBeNull();
    // The sign-out is seen reaching every tab: all three tiles grey, in every tab's strip (the last
    // tab is a new page load of the same tab, with its id kept).
    for (const page of pages) await waitTiles(page, ids, 'signed-out');

    // The redirect page shows a failed sign-in in words, with a way back.
    const stray = await demo.context.newPage();
    await stray.goto(`${base}/oidc/callback?code=made-up&state=made-up&iss=${encodeURIComponent(op.issuer)}`);
    await stray.locator('#callback-error').waitFor({ state: 'visible', timeout: 15_000 });
    expect(await stray.locator('#callback-error').textContent()).toContain('(token_invalid)');
    expect(await stray.locator('#callback-back').getAttribute('href')).toBe('/?origin=oidc');
    expect(new URL(stray.url()).search).toBe(''); // the answer's parameters left the address
    expect(await status(first)).toBe('signed-out');
  });
});
