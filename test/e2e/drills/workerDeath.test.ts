/**
 * Drill 3 — worker death. Every real tab is closed, so Chromium ends the SharedWorker; the tabs are
 * opened again and a new worker starts. The tokens come back from IndexedDB: the first reopened tab
 * reads its token before any request reaches the origin, no tab causes a mint while the tokens are
 * fresh, and the only request at all is the background re-check of the session (`GET /v1/client`),
 * which comes after the first token.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import { drillTest } from './fixtures.ts';
import { keyOf, storedTokens, workerEnded } from '../support/workerState.ts';
import { advanceClock, getToken, openTab, origin, signIn, stats, totalRequests, waitFor } from './support.ts';

const it = drillTest();

const READS = [undefined, { template: 'api' }, { expiresInSeconds: 120 }] as const;

async function readAll(page: Page): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for (const options of READS) out.push(await getToken(page, options));
  return out;
}

/** Waits until the tabs' worker has ended, then opens one tab, which must be served by a new worker (its mint count starts at 0). */
async function reopenOnNewWorker(context: BrowserContext, base: string, options: { namespace: string; pollIntervalMs: number }): Promise<Page> {
  await workerEnded(context, base, keyOf(options, base), 15_000);
  const page = await openTab(context, base, options);
  const { mints } = await page.evaluate(() => drillTab().manager.stats());
  if (mints !== 0) throw new Error(`the reopened tab reached a worker that already minted ${mints} tokens`);
  return page;
}

describe('drill 3: worker death', () => {
  it('five real tabs closed and reopened get their tokens back from IndexedDB, with no request before the first token and no mint while they are fresh', async ({
    h,
    context,
  }) => {
    const sessionId = await signIn(context, h.base);
    // The session re-check waits for the first poll tick, 2 s after the worker starts.
    const options = { namespace: 'worker-death', pollIntervalMs: 2000 };
    const pages = await Promise.all(Array.from({ length: 5 }, () => openTab(context, h.base, options)));
    const before = await Promise.all(pages.map(readAll));
    const tokens = before[0]!;
    for (const read of before) expect(read).toEqual(tokens);
    expect(tokens.every((t) => typeof t === 'string')).toBe(true);
    await waitFor(() => storedTokens(pages[0]!, keyOf(options, h.base), tokens), 5000, 'the three tokens to be stored in IndexedDB', 50);
    const mintsBefore = (await stats(h.base)).sessions[sessionId]?.mints ?? 0;
    const requestsBefore = await totalRequests(h.base);
    const clientBefore = (await stats(h.base)).requests.client ?? 0;

    const closedAt = Date.now();
    await Promise.all(pages.map((p) => p.close()));
    const first = await reopenOnNewWorker(context, h.base, options);
    const restartedIn = Date.now() - closedAt;
    // The first token of the new worker comes from IndexedDB, before any request.
    expect(await readAll(first)).toEqual(tokens);
    expect(await totalRequests(h.base)).toBe(requestsBefore);
    const snap = await first.evaluate(() => drillTab().manager.getSnapshot());
    expect(snap.sessionId).toBe(sessionId);
    expect(snap.storage).toBe('indexeddb');

    const others = await Promise.all(Array.from({ length: 4 }, () => openTab(context, h.base, options)));
    for (const page of others) expect(await readAll(page)).toEqual(tokens);
    // The background re-check goes out at the first poll tick, 2 s after the worker started.
    await waitFor(
      async () => ((await stats(h.base)).requests.client ?? 0) > clientBefore,
      10_000,
      'the background re-check of the session to reach the origin',
    );
    const after = await stats(h.base);
    expect(after.sessions[sessionId]?.mints ?? 0).toBe(mintsBefore);
    expect((after.requests.client ?? 0) - clientBefore).toBe(1);
    expect((await totalRequests(h.base)) - requestsBefore).toBe(1);
    expect((await first.evaluate(() => drillTab().manager.stats())).tabs).toBe(5);
    console.info('[drill 3]', JSON.stringify({ restartedInMs: restartedIn, keys: READS.length, tabs: 5, mints: 0, requests: 1 }));
  });

  it('a SharedWorker ended by the browser while five tabs are open is replaced at once, and tokens keep flowing in every tab', async ({ h, context }) => {
    const sessionId = await signIn(context, h.base);
    const options = { namespace: 'worker-crash', pollIntervalMs: 1000 };
    const pages = await Promise.all(Array.from({ length: 5 }, () => openTab(context, h.base, options)));
    const token = await getToken(pages[0]!);
    await waitFor(() => storedTokens(pages[0]!, keyOf(options, h.base), [token]), 5000, 'the token to be stored in IndexedDB', 50);
    for (const page of pages) await page.evaluate(() => Object.assign(globalThis, { __before: drillTab().manager.getSnapshot() }));
    // A mint in flight when the worker ends: the tab asks the worker that replaces it.
    await origin(h.base, '/__origin/faults', { latencyMs: 1500 });
    const mintRequests = (await stats(h.base)).requests.mint ?? 0;
    await pages[1]!.evaluate(() => {
      const settled = drillTab()
        .manager.getToken({ template: 'api', skipCache: true })
        .then(
          (jwt) => ({ jwt }),
          (error: unknown) => ({ error: String(error) }),
        );
      Object.assign(globalThis, { __inflight: settled });
    });
    await waitFor(async () => ((await stats(h.base)).requests.mint ?? 0) > mintRequests, 5000, 'the mint to reach the origin');
    // End the worker the way the browser would (out of memory, a crash): DevTools closes its target.
    const cdp = await h.browser.newBrowserCDPSession();
    const worker = (await cdp.send('Target.getTargets')).targetInfos.find((t) => t.type === 'shared_worker' && t.url.includes('sharedWorker'));
    expect(worker).toBeDefined();
    const killedAt = Date.now();
    await cdp.send('Target.closeTarget', { targetId: worker!.targetId });
    await cdp.detach();
    // Every tab notices (the worker's lock is released), starts a new worker, says hello to it and
    // adopts its snapshot (a new object: nothing else changes meanwhile, the tokens live 60 s).
    for (const page of pages) {
      await page.waitForFunction(() => drillTab().manager.getSnapshot() !== (globalThis as unknown as { __before: unknown }).__before, undefined, {
        timeout: 10_000,
      });
    }
    const replacedInMs = Date.now() - killedAt;
    await origin(h.base, '/__origin/faults', {});
    const inflight = await pages[1]!.evaluate(() => (globalThis as unknown as { __inflight: Promise<{ jwt?: string | null; error?: string }> }).__inflight);
    expect(inflight.error).toBeUndefined();
    expect(inflight.jwt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(
      await pages[0]!.evaluate(() =>
        drillTab()
          .manager.stats()
          .then((s) => s.tabs),
      ),
    ).toBe(5);
    for (const page of pages) {
      expect(await getToken(page)).toBe(token);
      expect(await page.evaluate(() => drillTab().manager.getSnapshot().sessionId)).toBe(sessionId);
    }
    // The new worker mints and every tab hears it: the mirrors follow the new instance.
    await advanceClock(h.base, 1000); // a new iat
    const fresh = await pages[4]!.evaluate(() => drillTab().manager.getToken({ skipCache: true }));
    expect(fresh).not.toBe(token);
    for (const page of pages) await page.waitForFunction((jwt) => drillTab().manager.peekToken() === jwt, fresh, { timeout: 3000 });
    console.info('[drill 3] worker ended by the browser', JSON.stringify({ replacedInMs, tabs: 5 }));
  });
});
