/**
 * Real-tab drills: a Vite server with the development origin (the project's own config), Chromium
 * through playwright-core, and helpers to drive tab pages (`test/browser/fixtures/tab.html`) and the
 * origin from Node. Each test gets its own browser context, so its own cookie jar, SharedWorker and
 * IndexedDB: the origin sees a new browser.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { chromiumLaunchOptions } from '../../../dev/browsers/chromium.ts';
import { waitFor } from '../../support/wait.ts';

export {
  advanceClock,
  backend,
  mintLog,
  origin,
  refreshedSince,
  SECRET_KEY,
  stats,
  totalRequests,
  type MintRecord,
  type OriginStats,
} from '../../support/originApi.ts';
export { repeatUntil, sleep, waitFor } from '../../support/wait.ts';

export interface TestServer {
  /** The test server as Node and the browser reach it: `http://127.0.0.1:{port}`. */
  base: string;
  /** The test server under another host name the browser resolves to it, such as `app.localhost`. */
  at(host: string): string;
  close(): Promise<void>;
}

export interface Harness extends TestServer {
  browser: Browser;
}

/**
 * The test server alone: Vite with the project's config (the development origin mounted, fault
 * controls on), on a free port of 127.0.0.1. `hosts` are other names it answers to. `ws: false`
 * leaves out Vite's hot-reload WebSocket, which every page it serves would otherwise open: an open
 * WebSocket keeps a page out of Firefox's back/forward cache, so the lifecycle tests serve without it.
 */
export async function startTestServer(o: { hosts?: string[]; ws?: boolean } = {}): Promise<TestServer> {
  const server: ViteDevServer = await createServer({
    configFile: 'vite.config.ts',
    mode: 'development',
    server: { port: 0, host: '127.0.0.1', allowedHosts: o.hosts ?? [], ...(o.ws === false ? { ws: false } : {}) },
    logLevel: 'warn',
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('the Vite server has no address');
  return {
    base: `http://127.0.0.1:${address.port}`,
    at: (host) => `http://${host}:${address.port}`,
    close: () => server.close(),
  };
}

/**
 * The test server (Vite, with the development origin) and a Chromium. `hosts` are other names
 * the server answers to; `browserArgs` are added to the launch flags (a host resolver rule);
 * `backForwardCache` keeps Chromium's back/forward cache on (playwright turns it off by default).
 */
export async function startHarness(o: { hosts?: string[]; browserArgs?: string[]; backForwardCache?: boolean; ws?: boolean } = {}): Promise<Harness> {
  const server = await startTestServer(o);
  const launch = chromiumLaunchOptions();
  const browser = await chromium.launch({
    ...launch,
    args: [...launch.args, ...(o.browserArgs ?? [])],
    ...(o.backForwardCache ? { ignoreDefaultArgs: ['--disable-back-forward-cache'] } : {}),
  });
  return {
    ...server,
    browser,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

export interface TabOptions {
  namespace: string;
  pollIntervalMs?: number;
  sessionId?: string;
  [option: string]: unknown;
}

export interface TabFlags {
  nosw?: boolean;
}

/** The URL of a tab page with its options and flags. */
export function tabUrl(base: string, options: TabOptions, flags: TabFlags = {}): string {
  const query = new URLSearchParams({ opts: JSON.stringify(options) });
  if (flags.nosw) query.set('nosw', '1');
  return `${base}/test/browser/fixtures/tab.html?${query}`;
}

/** Opens a real tab and waits for its manager to be ready. */
export async function openTab(context: BrowserContext, base: string, options: TabOptions, flags: TabFlags = {}): Promise<Page> {
  const page = await context.newPage();
  await page.goto(tabUrl(base, options, flags));
  await waitReady(page);
  return page;
}

export async function waitReady(page: Page): Promise<void> {
  await page.waitForFunction(() => 'tabtoken' in globalThis);
  await page.evaluate(() => drillTab().manager.ready);
}

/** What the page exposes (see test/browser/fixtures/tab.ts), as seen inside `page.evaluate`. */
export interface PageManager {
  ready: Promise<void>;
  getToken(options?: object): Promise<string | null>;
  peekToken(options?: object): string | null;
  subscribe(listener: () => void): () => void;
  getSnapshot(): {
    version: number;
    status: string;
    mode: string;
    storage: string;
    sessionId: string | null;
    userId: string | null;
    claims: Record<string, unknown> | null;
    tokens: Record<string, { jwt: string; expiresAt: number; staleAt: number; scheme?: 'DPoP' }>;
  };
  stats(): Promise<{ tabs: number; mints: number; requests: { mint: number; client: number; end: number; failed: number } }>;
  signOut(): Promise<void>;
  signIn(options?: object): Promise<void>;
  setActiveSession(sessionId: string | null): Promise<void>;
  fetch(input: string, init?: RequestInit): Promise<Response>;
}
export interface PageApi {
  manager: PageManager;
  events: { type: string; at: number; detail: unknown }[];
}

declare global {
  // The page-side accessor used in `page.evaluate` callbacks (they run in the page, where `newContext` defines it).
  function drillTab(): PageApi;
}

/** Defines `drillTab()` in every page of the context, so evaluate callbacks stay short and typed. */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    (globalThis as unknown as { drillTab: () => unknown }).drillTab = () => (globalThis as unknown as { tabtoken: unknown }).tabtoken;
  });
  return context;
}

export function getToken(page: Page, options?: object): Promise<string | null> {
  return page.evaluate((o) => drillTab().manager.getToken(o), options);
}

export function snapshot(page: Page): Promise<ReturnType<PageManager['getSnapshot']>> {
  return page.evaluate(() => drillTab().manager.getSnapshot());
}

/** Signs the context's browser in (a page of the origin posts the form); returns the session id. */
export async function signIn(context: BrowserContext, base: string, identifier = `drill-${Math.random().toString(36).slice(2, 8)}`): Promise<string> {
  const page = await context.newPage();
  await page.goto(`${base}/v1/client`);
  const id = await page.evaluate(async (who) => {
    const res = await fetch('/v1/client/sign_ins', { method: 'POST', body: new URLSearchParams({ identifier: who }) });
    return ((await res.json()) as { response: { id: string } }).response.id;
  }, identifier);
  await page.close();
  return id;
}

/**
 * Starts a read loop in a page: `getToken()` every `everyMs`, each outcome recorded (a string, null,
 * or the error's code) once it settles. `stopReadLoop(page)` ends it and returns what it saw.
 */
export async function startReadLoop(page: Page, everyMs = 50): Promise<void> {
  await page.evaluate((every) => {
    const g = globalThis as unknown as ReadLoop;
    g.__reads = [];
    g.__pending = 0;
    g.__loop = setInterval(() => {
      const at = Date.now();
      g.__pending++;
      drillTab()
        .manager.getToken()
        .then(
          (jwt) => g.__reads.push({ at, jwt }),
          (e: unknown) => g.__reads.push({ at, error: String((e as { code?: string }).code ?? e) }),
        )
        .finally(() => g.__pending--);
    }, every);
  }, everyMs);
}

export interface ReadOutcome {
  at: number;
  jwt?: string | null;
  error?: string;
}

/** What `startReadLoop` keeps in the page: the outcomes, the reads not settled yet, the interval. */
interface ReadLoop {
  __reads: ReadOutcome[];
  __pending: number;
  __loop: ReturnType<typeof setInterval>;
}

/**
 * Ends the page's read loop and returns what it read, once every read it started has settled (each
 * one started is in the list).
 */
export async function stopReadLoop(page: Page): Promise<ReadOutcome[]> {
  await page.evaluate(() => clearInterval((globalThis as unknown as ReadLoop).__loop));
  await waitFor(() => page.evaluate(() => (globalThis as unknown as ReadLoop).__pending === 0), 15_000, 'the reads in flight of the read loop to settle');
  return page.evaluate(() => (globalThis as unknown as ReadLoop).__reads);
}
