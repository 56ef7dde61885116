/**
 * The real-tab tests of the app's own token endpoint: the test server (Vite with the project's
 * config, so the development origin and its app session routes are mounted) with a real
 * better-auth server mounted on the same origin at `/api/auth`, Chromium through playwright-core,
 * and the tab pages of the drills (`test/browser/fixtures/tab.html`) with an `endpoint` manager.
 *
 * Every test gets its own browser context — its own cookie jar, SharedWorker and IndexedDB — so the
 * servers see a new browser; the origin and better-auth are reset after it. What is asserted is
 * counted by the servers themselves: the origin's `stats.app` (token answers, reuses, revoked
 * families) and better-auth's own counter of `GET /api/auth/token`.
 *
 * @example
 * const it = endpointTest();
 * it('…', async ({ h, context }) => {
 *   const pages = await signedInTabs(context, h.base, devOriginOptions('ns'), 5);
 * });
 */
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { ServerResponse } from 'node:http';
import { createServer, type Plugin, type ViteDevServer } from 'vite';
import { test } from 'vitest';
import { betterAuthPlugin, type BetterAuthPlugin, type BetterAuthServer } from '../../../dev/betterAuth/index.ts';
import { chromiumLaunchOptions } from '../../../dev/browsers/chromium.ts';
import type { OriginStats } from '../../support/originApi.ts';
import { repeatUntil } from '../../support/wait.ts';
import { newContext, origin, tabUrl, waitReady, type PageManager, type TabFlags } from '../drills/support.ts';

export { origin } from '../drills/support.ts';
export { quietFor, waitFor } from '../../support/wait.ts';

/** The token lifetime of every server here: the smallest the development origin allows. */
export const LIFETIME_S = 20;

/** What the tab page's manager also answers in these tests (the drills' type leaves it out). */
export interface EndpointManager extends PageManager {
  sync(): Promise<void>;
}

/**
 * Holds answers of one route after the server has made them: what a slow network, or a server
 * that answers late, looks like to the browser. The app session routes rotate the refresh cookie
 * as a request arrives, so a held answer already carries the new cookie; a request the browser
 * abandons meanwhile loses it (counted in `lost`). The origin's own latency fault cannot show
 * this: it waits before the route runs, and a request abandoned during the wait is never served.
 */
export interface AnswerHold {
  /** Holds the next `count` answers of `path` for `ms` each. */
  arm(path: string, ms: number, count?: number): void;
  /** Answers held so far (whether delivered yet or not). */
  readonly held: number;
  /** Held answers whose connection the client closed before they could be delivered. */
  readonly lost: number;
  /** Holds nothing more and forgets the counts. */
  reset(): void;
}

function answerHold(): { hold: AnswerHold; plugin: Plugin } {
  let armed: { path: string; ms: number; count: number } | null = null;
  const counts = { held: 0, lost: 0 };
  const hold: AnswerHold = {
    arm(path, ms, count = 1) {
      armed = { path, ms, count };
    },
    get held() {
      return counts.held;
    },
    get lost() {
      return counts.lost;
    },
    reset() {
      armed = null;
      counts.held = counts.lost = 0;
    },
  };
  const plugin: Plugin = {
    name: 'tabtoken-test:answer-hold',
    // Ahead of the development origin's middleware, which answers the route and calls no next.
    enforce: 'pre',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '/').split('?')[0];
        if (!armed || armed.count <= 0 || path !== armed.path) return next();
        armed.count--;
        counts.held++;
        const { ms } = armed;
        // The origin answers with setHeader and one end(): nothing reaches the socket before end().
        // A 'close' before the answer is sent means the client closed the connection (a request whose
        // body was read is destroyed by Node at once, so `req.destroyed` says nothing).
        let closed = false;
        res.once('close', () => {
          closed = true;
        });
        const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
        res.end = ((chunk?: unknown) => {
          setTimeout(() => {
            if (closed) counts.lost++;
            else end(chunk);
          }, ms);
          return res;
        }) as ServerResponse['end'];
        next();
      });
    },
  };
  return { hold, plugin };
}

export interface EndpointHarness {
  /** The test server as Node and the browser reach it: `http://127.0.0.1:{port}`. */
  base: string;
  browser: import('playwright-core').Browser;
  /** The better-auth server mounted on the test server (there once the server listens). */
  betterAuth(): BetterAuthServer;
  hold: AnswerHold;
  close(): Promise<void>;
}

/**
 * The test server with better-auth beside the development origin, and a Chromium. better-auth is
 * mounted here rather than in the project's config, so the other tests do not load it.
 */
export async function startEndpointHarness(): Promise<EndpointHarness> {
  const plugin: BetterAuthPlugin = betterAuthPlugin({ tokenLifetimeSeconds: LIFETIME_S, quiet: true });
  const { hold, plugin: holding } = answerHold();
  const server: ViteDevServer = await createServer({
    configFile: 'vite.config.ts',
    mode: 'development',
    plugins: [holding, plugin],
    server: { port: 0, host: '127.0.0.1' },
    logLevel: 'warn',
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('the Vite server has no address');
  const browser = await chromium.launch(chromiumLaunchOptions());
  return {
    base: `http://127.0.0.1:${address.port}`,
    browser,
    hold,
    betterAuth() {
      const running = plugin.api.server();
      if (!running) throw new Error('better-auth is not mounted yet');
      return running;
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/**
 * The `it` of these tests: `h` started once for the file, `context` a browser context of the
 * test's own, closed after it, and both servers reset then (their counters, and the origin's
 * faults, outage, clock offset and reuse interval).
 */
export function endpointTest() {
  return test
    .extend('h', { scope: 'file' }, async ({}, { onCleanup }): Promise<EndpointHarness> => {
      const h = await startEndpointHarness();
      onCleanup(() => h.close());
      return h;
    })
    .extend('context', async ({ h }, { onCleanup }): Promise<BrowserContext> => {
      const context = await newContext(h.browser);
      onCleanup(async () => {
        await context.close();
        h.hold.reset();
        await origin(h.base, '/__origin/reset', {});
        h.betterAuth().reset();
      });
      return context;
    });
}

export interface EndpointTabOptions {
  namespace: string;
  pollIntervalMs: number;
  endpoint: { tokenUrl: string; method?: 'GET' | 'POST'; signOutUrl?: string; headers?: Record<string, string> };
  [option: string]: unknown;
}

/**
 * A manager of the development origin's app session routes, polling every second. The CSRF header
 * is what an app with SameSite cookies sends with it.
 */
export function devOriginOptions(namespace: string, extra: Record<string, unknown> = {}): EndpointTabOptions {
  return {
    namespace,
    pollIntervalMs: 1000,
    endpoint: { tokenUrl: '/app/session/token', signOutUrl: '/app/session/logout', headers: { 'X-Requested-With': 'tabtoken' } },
    ...extra,
  };
}

/** A manager of better-auth's JWT route, its sign-out and its key set, as the README sets it up. */
export function betterAuthOptions(namespace: string, extra: Record<string, unknown> = {}): EndpointTabOptions {
  return {
    namespace,
    pollIntervalMs: 1000,
    endpoint: { tokenUrl: '/api/auth/token', method: 'GET', signOutUrl: '/api/auth/sign-out' },
    verify: { jwksUrl: '/api/auth/jwks' },
    ...extra,
  };
}

/**
 * Counts the requests a page itself makes to `path` (its fetches: in local mode the leader's
 * engine runs in the page; a SharedWorker's requests are not the page's).
 */
export function countRequests(page: Page, path: string): { calls: number } {
  const counter = { calls: 0 };
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === path) counter.calls++;
  });
  return counter;
}

/** Opens a real tab with an endpoint manager and waits for it to be ready; `before` sees the page before it loads. */
export async function openTab(
  context: BrowserContext,
  base: string,
  options: EndpointTabOptions,
  flags: TabFlags = {},
  before: (page: Page) => void = () => {},
): Promise<Page> {
  const page = await context.newPage();
  before(page);
  await page.goto(tabUrl(base, options, flags));
  await waitReady(page);
  return page;
}

/** The app's own sign-in form, posted from the page (so the refresh cookie is the browser's), then `sync()`. */
export async function logInThrough(page: Page, userId: string): Promise<void> {
  await page.evaluate(async (who) => {
    const res = await fetch('/app/session/login', { method: 'POST', body: new URLSearchParams({ user_id: who }) });
    if (!res.ok) throw new Error(`login answered ${res.status}`);
    await (drillTab().manager as EndpointManager).sync();
  }, userId);
}

/** `count` tabs of one manager, the first signed in through the app's own form; all `ok`. */
export async function signedInTabs(
  context: BrowserContext,
  base: string,
  options: EndpointTabOptions,
  count: number,
  userId = 'alice',
  flags: TabFlags = {},
  before?: (page: Page) => void,
): Promise<Page[]> {
  const first = await openTab(context, base, options, flags, before);
  await logInThrough(first, userId);
  const pages = [first];
  for (let i = 1; i < count; i++) pages.push(await openTab(context, base, options, flags, before));
  for (const page of pages) await waitStatus(page, 'ok');
  return pages;
}

export function waitStatus(page: Page, status: string, timeout = 10_000): Promise<unknown> {
  return page.waitForFunction((s) => drillTab().manager.getSnapshot().status === s, status, { timeout, polling: 50 });
}

/** The origin's counters of the app session routes, and how many requests its token route had. */
export async function appStats(base: string): Promise<OriginStats['app'] & { tokenRequests: number; me: number }> {
  const s = await origin<OriginStats>(base, '/__origin/stats');
  return { ...s.app, tokenRequests: s.requests.app_token ?? 0, me: s.requests.app_me ?? 0 };
}

/** What every tab read: each tab's tokens in the order it saw them, their union, and any read that gave none. */
export interface Reads {
  perTab: Set<string>[];
  seen: Set<string>;
  failures: string[];
}

/** One read of `getToken()` in every tab, all at once, added to `reads`. */
export async function readRound(pages: Page[], reads: Reads): Promise<void> {
  const results = await Promise.all(
    pages.map((p) =>
      p.evaluate(() =>
        drillTab()
          .manager.getToken()
          .then(
            (t) => ({ t }),
            (e: { code?: string }) => ({ e: String(e.code ?? e) }),
          ),
      ),
    ),
  );
  results.forEach((r, i) => {
    if ('t' in r && typeof r.t === 'string') {
      reads.perTab[i]!.add(r.t);
      reads.seen.add(r.t);
    } else reads.failures.push('e' in r ? r.e : 'null');
  });
}

/** Nothing read yet, in each of `pages`. */
export function noReads(pages: Page[]): Reads {
  return { perTab: pages.map(() => new Set()), seen: new Set(), failures: [] };
}

/** Reads in every tab every `everyMs` while `more()` holds (its argument is what was read so far), adding to `reads`. */
export async function readWhile(pages: Page[], more: (reads: Reads) => boolean, reads = noReads(pages), everyMs = 150): Promise<Reads> {
  await repeatUntil(
    () => more(reads),
    everyMs,
    () => readRound(pages, reads),
  );
  return reads;
}

/**
 * Reads once more in every tab at a moment when `count` holds still, so a token answered at the
 * very end is either counted and seen, or neither; returns the count then.
 */
export async function settle(pages: Page[], reads: Reads, count: () => Promise<number>): Promise<number> {
  for (;;) {
    const before = await count();
    const last = noReads(pages);
    await readRound(pages, last);
    const after = await count();
    if (before !== after) continue;
    last.perTab.forEach((tokens, i) => {
      for (const t of tokens) reads.perTab[i]!.add(t);
    });
    for (const t of last.seen) reads.seen.add(t);
    reads.failures.push(...last.failures);
    return after;
  }
}
