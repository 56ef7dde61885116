/**
 * Real tabs: Chromium driven by playwright-core against a Vite server with the development origin,
 * every tab a page of one browser context sharing one SharedWorker.
 */
import { describe, expect } from 'vitest';
import { drillTest } from './drills/fixtures.ts';
import { getToken, openTab, origin, repeatUntil, signIn, stats } from './drills/support.ts';

const it = drillTest();

describe('real tabs', () => {
  it('ten real tabs share one worker: one mint per refresh cycle, and sign-out reaches them all', async ({ h, context }) => {
    await origin(h.base, '/__origin/config', { tokenLifetimeSeconds: 20 });
    const sessionId = await signIn(context, h.base, 'e2e-user');
    const options = { namespace: 'e2e', pollIntervalMs: 1000 };
    const pages = await Promise.all(Array.from({ length: 10 }, () => openTab(context, h.base, options)));
    const mintsOf = async () => (await stats(h.base)).sessions[sessionId]?.mints ?? 0;
    const before = await mintsOf();
    const seen = new Set<string>();
    await repeatUntil(Date.now() + 12_000, 100, async () => {
      for (const jwt of await Promise.all(pages.map((p) => getToken(p)))) seen.add(String(jwt));
    });
    const mints = (await mintsOf()) - before;
    expect(seen.has('null')).toBe(false);
    expect(seen.size).toBeGreaterThanOrEqual(2);
    expect(mints).toBeLessThanOrEqual(seen.size);
    expect(mints).toBeGreaterThanOrEqual(seen.size - 1);

    await pages[9]!.evaluate(() => drillTab().manager.signOut());
    for (const page of pages) {
      await page.waitForFunction(() => drillTab().manager.getSnapshot().status === 'signed-out');
      expect(await getToken(page)).toBeNull();
    }
    await Promise.all(pages.map((p) => p.close()));
  });
});
