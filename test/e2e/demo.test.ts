/**
 * The demo as a newcomer uses it, driven in Chromium against the server `npm start` runs (the
 * demo's Vite config with the development origin): sign in through a test session token, open
 * five more tabs, watch one mint per refresh, take the origin down and back, sign out from the
 * last tab. What the page shows is checked against what the origin counted: the chart's mint
 * marks, and the tab strip's tiles as every tab turns amber and then grey. Leaves a screenshot in
 * test/e2e/.artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repeatUntil } from '../support/wait.ts';
import { postControl, chart, peek, startDemo, status, waitChartMatches, waitStatus, waitTiles, type DemoHarness, type DemoWindow } from './support/demoPage.ts';

const artifacts = resolve(import.meta.dirname, '.artifacts');
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

const originMints = async () => ((await (await fetch(`${base}/__origin/stats`)).json()) as { mints: number }).mints;
const tabIds = (pages: Page[]) => Promise.all(pages.map((p) => p.evaluate(() => (globalThis as unknown as DemoWindow).demo.tabId)));

describe('the demo', () => {
  it('signs in through a test session token, serves six tabs with one mint per refresh, rides out an outage and signs out everywhere', async () => {
    // From here on the origin counts only this test's mints, all of them inside the chart's window.
    await control('/__origin/reset', {});
    await control('/__origin/config', { tokenLifetimeSeconds: 20 });
    const first = await demo.context.newPage();
    await first.goto(base);
    await waitStatus(first, 'signed-out');
    // The demo's server creates a test session token; the page opens its url, which signs in and
    // redirects back to the demo.
    await Promise.all([first.waitForURL(`${base}/`), first.click('#sign-in')]);
    await waitStatus(first, 'ok');
    const sessionId = await first.evaluate(() => (globalThis as unknown as DemoWindow).tokens.getSnapshot().sessionId);
    expect(sessionId).toMatch(/^sess_/);

    const pages = [first];
    for (let i = 0; i < 5; i++) {
      const page = await demo.context.newPage();
      await page.goto(base);
      await waitStatus(page, 'ok');
      pages.push(page);
    }
    for (const page of pages) expect(await page.evaluate(() => (globalThis as unknown as DemoWindow).tokens.getSnapshot().mode)).toBe('shared');

    const mints = async () =>
      ((await (await fetch(`${base}/__origin/stats`)).json()) as { sessions: Record<string, { mints: number }> }).sessions[sessionId as string]?.mints ?? 0;
    const before = await mints();
    const seen = new Set<string>();
    await repeatUntil(Date.now() + 12_000, 200, async () => {
      for (const page of pages) seen.add(String(await peek(page)));
    });
    expect(seen.has('null')).toBe(false);
    const cycle = (await mints()) - before;
    expect(seen.size).toBeGreaterThanOrEqual(2);
    expect(cycle).toBeLessThanOrEqual(seen.size);
    expect(cycle).toBeGreaterThanOrEqual(seen.size - 1);
    // The shared panel shows the tab count from the worker.
    await first.waitForFunction(() => document.getElementById('tabs')?.textContent === '6');

    // The tab strip of every tab shows all six, signed in, each holding the same token as this one.
    const ids = await tabIds(pages);
    expect(new Set(ids).size).toBe(6);
    for (const page of pages) await waitTiles(page, ids, 'ok');
    await first.waitForFunction(
      () => {
        const tail = ((globalThis as unknown as DemoWindow).tokens.peekToken() ?? '').slice(-4);
        const tiles = [...document.querySelectorAll('#tab-strip .tile-token')].map((e) => e.textContent);
        return tiles.length === 6 && tiles.every((t) => t === `…${tail}`);
      },
      undefined,
      { timeout: 15_000 },
    );

    // The chart has drawn a mark for every mint the origin counted, and the per-tab SDK it computes
    // for six tabs (six first tokens, six refreshes per lifetime) lies above tabtoken's measured line.
    const matched = await waitChartMatches(first, originMints);
    expect(matched.marks).toBe(matched.count);
    expect(matched.count).toBeGreaterThanOrEqual(2);
    const drawn = await chart(first);
    expect(drawn.tabtokenMints).toBe(drawn.mintMarks);
    expect(drawn.perTabSdkMints).toBeGreaterThan(drawn.tabtokenMints);
    expect(drawn.bands.map((b) => b.status)).toContain('signed-out'); // before the sign-in

    mkdirSync(artifacts, { recursive: true });
    await first.bringToFront();
    await first.screenshot({ path: resolve(artifacts, 'demo.png') });

    // Outage: the tabs keep the cached token and say degraded; the origin back → ok everywhere.
    await first.click('input[name=outage][value=down]');
    for (const page of pages) {
      await waitStatus(page, 'degraded');
      expect(await peek(page)).not.toBeNull();
    }
    // Every tile turns amber, in the tab that took the origin down and in the others.
    await waitTiles(first, ids, 'degraded');
    await waitTiles(pages[3]!, ids, 'degraded');
    await first.waitForFunction(() => (globalThis as unknown as DemoWindow).demo.chart().bands.some((b) => b.status === 'degraded'), undefined, {
      timeout: 10_000,
    });
    await first.click('input[name=outage][value=off]');
    for (const page of pages) await waitStatus(page, 'ok', 40_000);
    await waitTiles(first, ids, 'ok');
    // The refused requests are marked (the page draws the log it polled up to a second ago, so wait
    // for it), and the marks still match the origin's mints.
    await first.waitForFunction(() => (globalThis as unknown as DemoWindow).demo.chart().refusedMarks >= 1, undefined, { timeout: 10_000 });
    const afterOutage = await waitChartMatches(first, originMints);
    expect(afterOutage.marks).toBe(afterOutage.count);

    // Sign out from the last tab: every tab is signed out and holds no token.
    await pages[5]!.click('#sign-out');
    for (const page of pages) {
      await waitStatus(page, 'signed-out');
      expect(await peek(page)).toBeNull();
    }
    expect(await status(first)).toBe('signed-out');
    // The sign-out is seen reaching every tab: all six tiles grey, in every tab's strip.
    for (const page of pages) await waitTiles(page, ids, 'signed-out');
    await first.waitForFunction(
      () => (globalThis as unknown as DemoWindow).demo.chart().bands.filter((b) => b.status === 'signed-out').length >= 2,
      undefined,
      { timeout: 10_000 },
    );

    // A closed tab's tile goes.
    await pages[5]!.close();
    await waitTiles(first, ids.slice(0, 5), 'signed-out');
    await control('/__origin/reset', {});
  });
});
