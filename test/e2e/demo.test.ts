/**
 * The demo as a newcomer uses it, driven in Chromium against the server `npm start` runs (the
 * demo's Vite config with the development origin): sign in through a test session token, open
 * five more tabs, watch one mint per refresh, take the origin down and back, sign out from the
 * last tab. Leaves a screenshot in test/e2e/.artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumLaunchOptions } from '../support/chromium.ts';

const artifacts = resolve(import.meta.dirname, '.artifacts');
let server: ViteDevServer;
let browser: Browser;
let context: BrowserContext;
let base: string;

interface DemoWindow {
  tokens: {
    peekToken(): string | null;
    getSnapshot(): { status: string; sessionId: string | null; mode: string };
  };
}

beforeAll(async () => {
  server = await createServer({ configFile: resolve(import.meta.dirname, '../../demo/vite.config.ts'), server: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  base = `http://127.0.0.1:${address.port}`;
  browser = await chromium.launch(chromiumLaunchOptions());
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
});

const status = (page: Page) => page.evaluate(() => (globalThis as unknown as DemoWindow).tokens.getSnapshot().status);
const peek = (page: Page) => page.evaluate(() => (globalThis as unknown as DemoWindow).tokens.peekToken());
const waitStatus = (page: Page, wanted: string, timeout = 15_000) =>
  page.waitForFunction((s) => (globalThis as unknown as Partial<DemoWindow>).tokens?.getSnapshot().status === s, wanted, { timeout });

async function control(path: string, body: object): Promise<void> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.ok).toBe(true);
}

describe('the demo', () => {
  it('signs in through a test session token, serves six tabs with one mint per refresh, rides out an outage and signs out everywhere', async () => {
    await control('/__origin/config', { tokenLifetimeSeconds: 20 });
    const first = await context.newPage();
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
      const page = await context.newPage();
      await page.goto(base);
      await waitStatus(page, 'ok');
      pages.push(page);
    }
    for (const page of pages) expect(await page.evaluate(() => (globalThis as unknown as DemoWindow).tokens.getSnapshot().mode)).toBe('shared');

    const mints = async () => ((await (await fetch(`${base}/__origin/stats`)).json()) as { sessions: Record<string, { mints: number }> }).sessions[sessionId as string]?.mints ?? 0;
    const before = await mints();
    const seen = new Set<string>();
    for (const until = Date.now() + 12_000; Date.now() < until; ) {
      for (const page of pages) seen.add(String(await peek(page)));
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(seen.has('null')).toBe(false);
    const cycle = (await mints()) - before;
    expect(seen.size).toBeGreaterThanOrEqual(2);
    expect(cycle).toBeLessThanOrEqual(seen.size);
    expect(cycle).toBeGreaterThanOrEqual(seen.size - 1);
    // The shared panel shows the tab count from the worker.
    await first.waitForFunction(() => document.getElementById('tabs')?.textContent === '6');

    mkdirSync(artifacts, { recursive: true });
    await first.bringToFront();
    await first.screenshot({ path: resolve(artifacts, 'demo.png') });

    // Outage: the tabs keep the cached token and say degraded; the origin back → ok everywhere.
    await first.click('input[name=outage][value=down]');
    for (const page of pages) {
      await waitStatus(page, 'degraded');
      expect(await peek(page)).not.toBeNull();
    }
    await first.click('input[name=outage][value=off]');
    for (const page of pages) await waitStatus(page, 'ok', 40_000);

    // Sign out from the last tab: every tab is signed out and holds no token.
    await pages[5]!.click('#sign-out');
    for (const page of pages) {
      await waitStatus(page, 'signed-out');
      expect(await peek(page)).toBeNull();
    }
    expect(await status(first)).toBe('signed-out');
    await control('/__origin/reset', {});
  });
});
