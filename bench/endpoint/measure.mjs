/**
 * The token-endpoint benchmark (SPEC 10, "For a token endpoint"): tabtoken's `endpoint` option
 * against the real peers, in N real tabs, over real HTTP with real cookies:
 * - against the development origin's app session routes (`POST /app/session/token` rotates the
 *   `__app_refresh` cookie at every call; a rotated-away cookie presented again revokes the whole
 *   family — `refreshReuseIntervalSeconds: 0`), tabtoken and axios-auth-refresh, each tab calling the
 *   protected `GET /app/api/me` at every read;
 * - against a real better-auth server (`GET /api/auth/token`, its `jwt` plugin), tabtoken and
 *   better-auth's own client (`authClient.token()` at every read).
 *
 * Per run: a server of its own (`server.ts`: its own origin, counters and clock) and one browser
 * context (its own cookies and storage). Tab 0 signs in over the server's own routes; the other
 * N − 1 tabs are opened one after the other, each once the one before has its first token (so the
 * opening itself is no stampede); then every tab reads every `readMs` for `lifetimes` token lifetimes.
 * Then the wake-up moment: reading paused in every tab, the origin's clock advanced past a lifetime
 * (the app server; better-auth's clock cannot be moved, so there it is a burst of reads with the
 * clock as it is), and every tab reads once at the same instant.
 *
 * Counted from the servers, not the clients: the request log of `server.ts` (every answer of the
 * token routes, with the token it carried or the error code) and the servers' own counters
 * (`app.reuses` of `GET /__origin/stats`, better-auth's `stats()`).
 *
 * Plain JavaScript like the rest of bench/; the TypeScript server is loaded with Vite's
 * `runnerImport`, the pages are built by `bench/endpoint/vite.config.ts`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, runnerImport } from 'vite';
import { sideBySide } from '../lib/sideBySide.mjs';
import { sleep } from '../lib/stats.mjs';
import { ENDPOINT_CONTENDERS } from './contenders.mjs';

const configFile = fileURLToPath(new URL('./vite.config.ts', import.meta.url));
const now = () => performance.timeOrigin + performance.now();

/** Runs opened at the same time. */
const OPENING_CONCURRENCY = 2;
/** How far ahead of "now" the runner sets the wake-up instant, so every tab has it before it comes. */
const WAKE_LEAD_MS = 1500;
/** After the wake-up reads: time for a background request they started to land before counting. */
const AFTER_WAKE_MS = 2000;
/** After the follow-up reads, the same. */
const AFTER_CHECK_MS = 1000;
/** How far past one lifetime the wake-up moves the origin's clock. */
const WAKE_PAST_LIFETIME_MS = 5000;

/** What each mode measures. */
export const ENDPOINT_MODES = {
  quick: { sizes: [1, 5, 20], readMs: 1000, lifetimeS: 30, lifetimes: 3 },
  full: { sizes: [1, 5, 20], readMs: 1000, lifetimeS: 30, lifetimes: 5 },
};

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(fileURLToPath(new URL(`../../node_modules/${name}/package.json`, import.meta.url)), 'utf8')).version;
  } catch {
    return null;
  }
}

let counter = 0;
function runId(kind, n) {
  counter += 1;
  return `${kind}-n${n}-${counter}-${Math.random().toString(36).slice(2, 7)}`;
}

function countBy(keys) {
  const out = {};
  for (const key of keys) out[key] = (out[key] ?? 0) + 1;
  return out;
}

async function waitForFirstToken(page, timeoutMs) {
  await page.waitForFunction(
    () => globalThis.benchEndpoint?.firstTokenAt || globalThis.benchEndpoint?.error || globalThis.benchEndpoint?.log.signedOutAt,
    null,
    { timeout: timeoutMs, polling: 100 },
  );
  const { error, signedOutAt } = await page.evaluate(() => ({ error: globalThis.benchEndpoint.error, signedOutAt: globalThis.benchEndpoint.log.signedOutAt }));
  if (error) throw new Error(error);
  if (signedOutAt) throw new Error('the tab was signed out before its first token');
}

/** The server's counters for a contender's token source, as plain numbers. */
function counters(server, kind) {
  if (ENDPOINT_CONTENDERS[kind].server === 'app') {
    const { app } = server.originStats();
    return { tokens: app.tokens, reuses: app.reuses, families: app.families, revoked: app.revoked };
  }
  const s = server.betterAuthStats();
  return { tokens: s.tokens, tokenRequests: s.tokenRequests, getSession: s.routes['GET /api/auth/get-session'] ?? 0, requests: s.requests };
}

function diff(after, before) {
  return Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]));
}

async function openRun({ browser, outDir, serverModule, kind, n, settings }) {
  const id = runId(kind, n);
  const server = await serverModule.startEndpointServer({ outDir, lifetimeS: settings.lifetimeS });
  let context;
  try {
    context = await browser.newContext();
    const startedAt = now();
    const url = (extra = {}) => `${server.base}/tab.html?${new URLSearchParams({ c: kind, ns: id, read: String(settings.readMs), ...extra })}`;
    const pages = [];
    for (let i = 0; i < n; i++) {
      const page = await context.newPage();
      await page.goto(i === 0 ? url({ signin: '1', user: id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) }) : url());
      await waitForFirstToken(page, 60_000);
      pages.push(page);
    }
    const openedAt = now();
    const atOpen = counters(server, kind);
    // Each tab's read counters when the window opens (tab 0 has been reading while the others opened).
    const readsAtOpen = await Promise.all(
      pages.map((page) =>
        page.evaluate(() => {
          const log = globalThis.benchEndpoint.log;
          return { reads: log.reads, noToken: log.noToken, errors: log.errors, apiOk: log.apiOk, apiFailed: log.apiFailed };
        }),
      ),
    );
    return { id, kind, n, server, context, pages, startedAt, openedAt, atOpen, readsAtOpen };
  } catch (error) {
    await context?.close();
    await server.close();
    throw error;
  }
}

/** Token-route answers of the run's server between two instants. */
function tokenRequests(run, from, to) {
  const route = ENDPOINT_CONTENDERS[run.kind].server === 'app' ? { method: 'POST', path: '/app/session/token' } : { method: 'GET', path: '/api/auth/token' };
  return run.server.log.filter((e) => e.method === route.method && e.path === route.path && e.at >= from && e.at < to);
}

async function finishRun(run, { settings }) {
  const { id, kind, n, server, context, pages, startedAt, openedAt, atOpen, readsAtOpen } = run;
  const contender = ENDPOINT_CONTENDERS[kind];
  try {
    // The window: every tab reading for `lifetimes` lifetimes.
    await sleep(Math.max(0, openedAt + settings.lifetimes * settings.lifetimeS * 1000 - now()));
    await Promise.all(pages.map((page) => page.evaluate(() => globalThis.benchEndpoint.pause()).catch(() => undefined)));
    const windowEnd = now();
    const atWindowEnd = counters(server, kind);
    const logs = await Promise.all(pages.map((page) => page.evaluate(() => structuredClone(globalThis.benchEndpoint.log)).catch(() => null)));

    // The wake-up moment.
    const clockAdvancedMs = contender.server === 'app' ? settings.lifetimeS * 1000 + WAKE_PAST_LIFETIME_MS : 0;
    if (clockAdvancedMs > 0) await server.advanceClock(clockAdvancedMs);
    const wakeFrom = now();
    const at = Date.now() + WAKE_LEAD_MS;
    const wakes = await Promise.all(
      pages.map((page) =>
        page
          .evaluate((instant) => globalThis.benchEndpoint.wake(instant), at)
          .catch((error) => ({ skipped: false, error: String(error), tokens: [], apiStatus: null, signedOut: null, ms: 0, startedAt: 0 })),
      ),
    );
    await sleep(AFTER_WAKE_MS);
    const wakeEnd = now();
    const afterWake = counters(server, kind);
    // One more read in every tab, one tab after the other (no new stampede): a tab whose family was
    // revoked under it learns it now, as it would at its next API call.
    const checks = [];
    for (const page of pages) {
      checks.push(
        await page
          .evaluate(() => globalThis.benchEndpoint.wake(0))
          .catch((error) => ({ skipped: false, error: String(error), tokens: [], apiStatus: null, signedOut: null })),
      );
    }
    await sleep(AFTER_CHECK_MS);
    const checkEnd = now();
    const afterCheck = counters(server, kind);
    const finals = await Promise.all(pages.map((page) => page.evaluate(() => globalThis.benchEndpoint.finish()).catch((error) => ({ error: String(error) }))));

    // Window figures.
    const windowRequests = tokenRequests(run, openedAt, windowEnd);
    const ok = windowRequests.filter((e) => e.status >= 200 && e.status < 300);
    const minted = new Set(ok.map((e) => e.token).filter(Boolean));
    // Which tokens became a cached token that a tab used: read in the window or later (a refresh that
    // lands as the window closes is the cached token the next read uses, at the wake-up or the check).
    const readLogs = finals.map((f, i) => f?.log ?? logs[i]);
    const readByAny = new Set(readLogs.filter(Boolean).flatMap((log) => Object.keys(log.tokens)));
    const readByTab0 = new Set(Object.keys(readLogs[0]?.tokens ?? {}));
    const read = contender.cache === 'shared' ? readByAny : readByTab0;
    const cycles = [...minted].filter((token) => read.has(token)).length;
    const inWindow = (at) => at !== null && at >= openedAt && at <= windowEnd;
    const tabLogs = logs.filter(Boolean);
    // Reads in the window only: each tab's counters at the window's end less those at its start.
    const windowSum = (field) => logs.reduce((sum, log, i) => (log ? sum + log[field] - (readsAtOpen[i]?.[field] ?? 0) : sum), 0);

    // Wake-up figures.
    const wakeRequests = tokenRequests(run, wakeFrom, wakeEnd);
    const wakeOk = wakeRequests.filter((e) => e.status >= 200 && e.status < 300);
    const woke = wakes.filter((w) => !w.skipped);
    const starts = woke.map((w) => w.startedAt).filter((t) => t > 0);
    const wakeWindow = diff(afterWake, atWindowEnd);
    const checkRequests = tokenRequests(run, wakeEnd, checkEnd);
    const checkWindow = diff(afterCheck, afterWake);
    const checked = checks.filter((c) => !c.skipped);
    const windowCounts = diff(atWindowEnd, atOpen);

    return {
      kind,
      n,
      lifetimeS: settings.lifetimeS,
      lifetimes: settings.lifetimes,
      windowS: (windowEnd - openedAt) / 1000,
      openS: (openedAt - startedAt) / 1000,
      tokenRequests: windowRequests.length,
      tokens: ok.length,
      /** Distinct tokens among the 2xx answers (better-auth signs the same claims to the same JWT within one second). */
      distinctTokens: minted.size,
      cycles,
      requestsPerCycle: cycles > 0 ? ok.length / cycles : NaN,
      requestsPerLifetime: windowRequests.length / ((windowEnd - openedAt) / 1000 / settings.lifetimeS),
      mintedNeverRead: [...minted].filter((token) => !readByAny.has(token)).length,
      failedByCode: countBy(windowRequests.filter((e) => e.status >= 300).map((e) => `${e.status} ${e.code ?? ''}`.trim())),
      /** The server's own counters over the window (app: tokens, reuses, families, revoked; better-auth: tokens, tokenRequests, getSession, requests). */
      serverWindow: windowCounts,
      serverWhileOpening: atOpen,
      reuses: contender.server === 'app' ? windowCounts.reuses : null,
      reusesWhileOpening: contender.server === 'app' ? atOpen.reuses : null,
      familyRevoked: contender.server === 'app' ? windowCounts.revoked > 0 || atOpen.revoked > 0 : null,
      /** Seconds into the window of the first answer `refresh_reused`, or null. */
      firstReuseAfterS: ((first) => (first ? (first.at - openedAt) / 1000 : null))(windowRequests.find((e) => e.code === 'refresh_reused')),
      tabsSignedOutInWindow: tabLogs.filter((log) => inWindow(log.signedOutAt)).length,
      reads: windowSum('reads'),
      readsWithoutToken: windowSum('noToken'),
      failedReads: windowSum('errors'),
      apiOk: windowSum('apiOk'),
      apiFailed: windowSum('apiFailed'),
      tabsReported: tabLogs.length,
      wake: {
        clockAdvancedS: clockAdvancedMs / 1000,
        tabsReading: woke.length,
        tokenRequests: wakeRequests.length,
        tokens: wakeOk.length,
        distinctTokens: new Set(wakeOk.map((e) => e.token).filter(Boolean)).size,
        /** Each token request of the wake-up: ms after the instant the tabs were given, and its answer. */
        requests: wakeRequests.map((e) => ({ afterMs: Math.round(e.at - at), status: e.status, code: e.code })),
        failedByCode: countBy(wakeRequests.filter((e) => e.status >= 300).map((e) => `${e.status} ${e.code ?? ''}`.trim())),
        reuses: contender.server === 'app' ? wakeWindow.reuses : null,
        familyRevoked: contender.server === 'app' ? wakeWindow.revoked > 0 : null,
        server: wakeWindow,
        apiOk: woke.filter((w) => w.apiStatus !== null && w.apiStatus >= 200 && w.apiStatus < 300).length,
        apiCalls: woke.filter((w) => w.apiStatus !== null).length,
        withToken: woke.filter((w) => w.tokens.length > 0).length,
        errors: woke.filter((w) => w.error).map((w) => w.error),
        startSpreadMs: starts.length ? Math.max(...starts) - Math.min(...starts) : NaN,
        slowestMs: woke.length ? Math.max(...woke.map((w) => w.ms)) : NaN,
        /** Signed out right after the wake-up reads (those signed out before it included). */
        tabsSignedOutRightAfter: wakes.filter((w) => w.skipped || w.signedOut === true).length,
        /** Signed out after one more read in every tab, one after the other. */
        tabsSignedOutAfter: finals.filter((f) => f.signedOut === true).length,
        followUp: {
          tabsReading: checked.length,
          tokenRequests: checkRequests.length,
          tokens: checkRequests.filter((e) => e.status >= 200 && e.status < 300).length,
          reuses: contender.server === 'app' ? checkWindow.reuses : null,
          apiOk: checked.filter((c) => c.apiStatus !== null && c.apiStatus >= 200 && c.apiStatus < 300).length,
          withToken: checked.filter((c) => c.tokens.length > 0).length,
        },
      },
      tabsSignedOutAtEnd: finals.filter((f) => f.signedOut === true).length,
      runId: id,
    };
  } finally {
    await context.close();
    await server.close();
  }
}

/**
 * Runs every ready contender × N side by side, each run with a server of its own. Returns what the
 * report renders.
 */
export async function measureEndpointPeers({ browser, mode, log }) {
  const settings = ENDPOINT_MODES[mode];
  const kinds = Object.entries(ENDPOINT_CONTENDERS)
    .filter(([, c]) => c.ready)
    .map(([kind]) => kind);
  const pending = Object.entries(ENDPOINT_CONTENDERS)
    .filter(([, c]) => !c.ready)
    .map(([kind, c]) => ({ kind, reason: c.pending }));
  const { module: serverModule } = await runnerImport(fileURLToPath(new URL('./server.ts', import.meta.url)));
  const outDir = mkdtempSync(join(tmpdir(), 'tabtoken-bench-endpoint-'));
  try {
    await build({ configFile, build: { outDir }, logLevel: 'warn' });
    log(
      `endpoint: lifetime ${settings.lifetimeS} s, N = ${settings.sizes.join(', ')}, ${settings.lifetimes} lifetimes, a read every ${settings.readMs} ms; contenders ${kinds.join(', ')}`,
    );
    const rows = await sideBySide({
      sizes: settings.sizes,
      kinds,
      concurrency: OPENING_CONCURRENCY,
      lifetimeS: settings.lifetimeS,
      what: 'endpoint',
      labelOf: (kind) => ENDPOINT_CONTENDERS[kind].label,
      log,
      open: (kind, n) => openRun({ browser, outDir, serverModule, kind, n, settings }),
      finish: (run, kind, n) =>
        finishRun(run, { settings }).then((row) => {
          const w = row.wake;
          log(
            `  endpoint ${ENDPOINT_CONTENDERS[kind].label} N=${n}: ${row.tokens} tokens / ${row.cycles} cycles (${row.tokenRequests} requests), reuses ${row.reuses ?? '—'}, ${row.tabsSignedOutInWindow}/${n} signed out in the window; wake: ${w.tokenRequests} requests, reuses ${w.reuses ?? '—'}, ${w.tabsSignedOutAfter}/${n} signed out after`,
          );
          return row;
        }),
    });
    return {
      mode,
      ...settings,
      wakePastLifetimeS: WAKE_PAST_LIFETIME_MS / 1000,
      wakeLeadMs: WAKE_LEAD_MS,
      rows,
      pending,
      versions: { axios: packageVersion('axios'), axiosAuthRefresh: packageVersion('axios-auth-refresh'), betterAuth: packageVersion('better-auth') },
    };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
