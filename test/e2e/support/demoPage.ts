/**
 * What the demo's end-to-end tests share: the server `npm start` runs (the demo's Vite config,
 * with the development origin and the OpenID provider beside it) on a free port, Chromium, and
 * the reads of a demo page — its manager's status and token, the tab strip, and the chart, whose
 * marks are waited for until they match a count the server side made.
 */
import { resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { createServer, type ViteDevServer } from 'vite';
import { chromiumLaunchOptions } from '../../../dev/browsers/chromium.ts';
import { waitFor } from '../../support/wait.ts';

/** What a demo page exposes to the tests. */
export interface DemoWindow {
  tokens: {
    peekToken(): string | null;
    getSnapshot(): {
      status: string;
      sessionId: string | null;
      mode: string;
      userId: string | null;
      claims: Record<string, unknown> | null;
      tokens: Record<string, { jwt: string; scheme?: string }>;
    };
    stats(): Promise<{ tabs: number }>;
  };
  demo: {
    tabId: string;
    origin: string;
    chart(): { mintMarks: number; refusedMarks: number; tabtokenMints: number; perTabSdkMints: number; bands: { status: string }[] };
    tiles(): { id: string; status: string }[];
  };
}

export interface DemoHarness {
  server: ViteDevServer;
  browser: Browser;
  context: BrowserContext;
  base: string;
  close(): Promise<void>;
}

/** The demo's server on a free loopback port, and one Chromium context for its pages. */
export async function startDemo(): Promise<DemoHarness> {
  const server = await createServer({
    configFile: resolve(import.meta.dirname, '../../../demo/vite.config.ts'),
    server: { port: 0, host: '127.0.0.1' },
    logLevel: 'warn',
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  const browser = await chromium.launch(chromiumLaunchOptions());
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  return {
    server,
    browser,
    context,
    base: `http://127.0.0.1:${address.port}`,
    async close() {
      await context.close();
      await browser.close();
      await server.close();
    },
  };
}

/** Posts a JSON control request (to the development origin or the demo's routes) and expects a 2xx. */
export async function postControl(base: string, path: string, body: object): Promise<void> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.ok).toBe(true);
}

/** A new page of the demo's context at `url`, once the demo's page code runs. */
export async function openDemoPage(demo: DemoHarness, url: string): Promise<Page> {
  const page = await demo.context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as unknown as Partial<DemoWindow>).demo !== undefined, undefined, { timeout: 15_000 });
  return page;
}

/** Shared workers the browser runs now (Chromium's own list of targets). */
export async function sharedWorkerUrls(demo: DemoHarness): Promise<string[]> {
  const cdp = await demo.browser.newBrowserCDPSession();
  try {
    const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: { type: string; url: string }[] };
    return targetInfos.filter((t) => t.type === 'shared_worker').map((t) => t.url);
  } finally {
    await cdp.detach();
  }
}

export const status = (page: Page) => page.evaluate(() => (globalThis as unknown as DemoWindow).tokens.getSnapshot().status);
export const peek = (page: Page) => page.evaluate(() => (globalThis as unknown as DemoWindow).tokens.peekToken());
export const chart = (page: Page) => page.evaluate(() => (globalThis as unknown as DemoWindow).demo.chart());
export const waitStatus = (page: Page, wanted: string, timeout = 15_000) =>
  page.waitForFunction((s) => (globalThis as unknown as Partial<DemoWindow>).tokens?.getSnapshot().status === s, wanted, { timeout, polling: 100 });

/** Waits until the page's tab strip shows exactly these tabs, every one in `status`. */
export async function waitTiles(page: Page, ids: string[], wanted: string): Promise<void> {
  await page.waitForFunction(
    ([all, s]) => {
      const tiles = (globalThis as unknown as DemoWindow).demo.tiles();
      return tiles.length === all.length && all.every((id) => tiles.some((t) => t.id === id && t.status === s));
    },
    [ids, wanted] as const,
    { timeout: 15_000, polling: 100 },
  );
}

/**
 * Waits until the chart has drawn one mark for every event `count` counts on the server side (the
 * origin's mints, the provider's refreshes). The page draws what it polled up to a second ago, so
 * the two are compared only while the count holds still. After 20 s the last reading is returned
 * as it is, for the caller's expectation to show the difference.
 */
export async function waitChartMatches(page: Page, count: () => number | Promise<number>): Promise<{ marks: number; count: number }> {
  const until = Date.now() + 20_000;
  return waitFor(
    async () => {
      const before = await count();
      const marks = (await chart(page)).mintMarks;
      const after = await count();
      return (before === after && marks === after) || Date.now() >= until ? { marks, count: after } : null;
    },
    25_000,
    'the chart to draw one mark per counted event',
    250,
  );
}
