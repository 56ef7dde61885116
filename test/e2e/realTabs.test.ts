/**
 * Real tabs: Chromium driven by playwright-core against a Vite server with the development origin,
 * every tab a page of one browser context sharing one SharedWorker.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumLaunchOptions } from '../support/chromium.ts';

let server: ViteDevServer;
let browser: Browser;
let context: BrowserContext;
let base: string;

beforeAll(async () => {
  server = await createServer({ configFile: 'vite.config.ts', mode: 'development', server: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  base = `http://127.0.0.1:${address.port}`;
  browser = await chromium.launch(chromiumLaunchOptions());
  context = await browser.newContext();
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
});

async function openTab(options: object): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${base}/test/browser/fixtures/tab.html?opts=${encodeURIComponent(JSON.stringify(options))}`);
  await page.waitForFunction(() => 'tabtoken' in globalThis);
  await page.evaluate(() => (globalThis as unknown as { tabtoken: { manager: { ready: Promise<void> } } }).tabtoken.manager.ready);
  return page;
}

function getToken(page: Page): Promise<string | null> {
  return page.evaluate(() => (globalThis as unknown as { tabtoken: { manager: { getToken(): Promise<string | null> } } }).tabtoken.manager.getToken());
}

async function originJson<T>(path: string, body?: object): Promise<T> {
  const res = await fetch(`${base}${path}`, body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {});
  return (await res.json()) as T;
}

describe('real tabs', () => {
  it('ten real tabs share one worker: one mint per refresh cycle, and sign-out reaches them all', async () => {
    await originJson('/__origin/config', { tokenLifetimeSeconds: 20 });
    const first = await context.newPage();
    await first.goto(`${base}/test/browser/fixtures/tab.html?opts=%7B%7D`);
    const sessionId = await first.evaluate(async () => {
      const res = await fetch('/v1/client/sign_ins', { method: 'POST', body: new URLSearchParams({ identifier: 'e2e-user' }) });
      return ((await res.json()) as { response: { id: string } }).response.id;
    });
    await first.close();
    const options = { namespace: 'e2e', pollIntervalMs: 1000 };
    const pages = await Promise.all(Array.from({ length: 10 }, () => openTab(options)));
    const mintsOf = async () => (await originJson<{ sessions: Record<string, { mints: number }> }>('/__origin/stats')).sessions[sessionId]?.mints ?? 0;
    const before = await mintsOf();
    const seen = new Set<string>();
    const until = Date.now() + 12_000;
    while (Date.now() < until) {
      for (const jwt of await Promise.all(pages.map(getToken))) seen.add(String(jwt));
      await new Promise((r) => setTimeout(r, 100));
    }
    const mints = (await mintsOf()) - before;
    expect(seen.has('null')).toBe(false);
    expect(seen.size).toBeGreaterThanOrEqual(2);
    expect(mints).toBeLessThanOrEqual(seen.size);
    expect(mints).toBeGreaterThanOrEqual(seen.size - 1);

    await pages[9]!.evaluate(() => (globalThis as unknown as { tabtoken: { manager: { signOut(): Promise<void> } } }).tabtoken.manager.signOut());
    for (const page of pages) {
      await page.waitForFunction(() => (globalThis as unknown as { tabtoken: { manager: { getSnapshot(): { status: string } } } }).tabtoken.manager.getSnapshot().status === 'signed-out');
      expect(await getToken(page)).toBeNull();
    }
    await Promise.all(pages.map((p) => p.close()));
    await originJson('/__origin/reset', {});
  });
});
