#!/usr/bin/env node
/**
 * The soak run (issue 7): 20 real tabs of one browser read tokens in a loop for 10 minutes (quick: 1
 * minute) against the development origin with 20 s tokens, so the refresh cycle turns every 5 s.
 * It reports the calls made, the errors (a rejection or a null: must be 0), the mints per refresh
 * cycle (mints ÷ distinct tokens the tabs saw: must be 1.00) and the heap growth of the tabs and of
 * the SharedWorker between the start and the end of the loop, each measured after a forced GC.
 *
 * `bench/run.mjs --soak` calls `runSoak({ quick, log })`; `node bench/soak.mjs [--quick]` runs it
 * alone and prints the result as JSON. Plain JavaScript (Node 20 cannot load TypeScript): the Vite
 * server built from the project's vite.config.ts serves the tab page and the origin, and loads the
 * shared Chromium launch options. Loopback only; 20 tabs; bounded in time.
 */
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));

const TABS = 20;
const LIFETIME_S = 20;
const POLL_MS = 1000;
/** Each tab calls getToken() this often (ms) — about 1 000 calls a second across 20 tabs. */
const READ_EVERY_MS = 20;

/**
 * @param {{ quick?: boolean, durationMs?: number, tabs?: number, log?: (line: string) => void }} [options]
 * @returns {Promise<{ tabs: number, durationMs: number, calls: number, callsPerSecond: number, errors: number, nulls: number,
 *   errorSamples: string[], cycles: number, mints: number, mintsPerCycle: number, requests: Record<string, number>,
 *   heapGrowthBytes: { tabs: number, worker: number | null, perTab: number }, heapBytes: { tabsStart: number, tabsEnd: number, workerStart: number | null, workerEnd: number | null },
 *   workerTabs: number, getTokenP99Ms: number, heapMeasuredOverMs: number }>}
 */
export async function runSoak(options = {}) {
  const log = options.log ?? ((line) => console.log(`soak: ${line}`));
  const durationMs = options.durationMs ?? (options.quick ? 60_000 : 600_000);
  const tabs = options.tabs ?? TABS;
  // No file watching and no HMR: an edit made in the checkout during a 10-minute run must not reload the tabs.
  const server = await createServer({
    root,
    configFile: `${root}/vite.config.ts`,
    mode: 'development',
    server: { port: 0, host: '127.0.0.1', hmr: false, watch: null },
    logLevel: 'warn',
  });
  let browser = null;
  try {
    await server.listen();
    const address = server.httpServer?.address();
    if (!address || typeof address === 'string') throw new Error('the soak server has no address');
    const base = `http://127.0.0.1:${address.port}`;
    const { chromiumLaunchOptions } = await server.ssrLoadModule('/dev/browsers/chromium.ts');
    browser = await chromium.launch(chromiumLaunchOptions());
    const context = await browser.newContext();
    const originJson = async (path, body) => {
      const res = await fetch(`${base}${path}`, body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {});
      if (!res.ok) throw new Error(`${path} answered ${res.status}`);
      return res.json();
    };
    await originJson('/__origin/reset', {});
    await originJson('/__origin/config', { tokenLifetimeSeconds: LIFETIME_S });

    // Sign the browser in, then open the tabs on the app's page.
    const first = await context.newPage();
    await first.goto(`${base}/v1/client`);
    const sessionId = await first.evaluate(async () => {
      const res = await fetch('/v1/client/sign_ins', { method: 'POST', body: new URLSearchParams({ identifier: 'soak-user' }) });
      return (await res.json()).response.id;
    });
    await first.close();
    const opts = encodeURIComponent(JSON.stringify({ namespace: `soak-${Date.now()}`, pollIntervalMs: POLL_MS }));
    const pages = [];
    for (let i = 0; i < tabs; i++) {
      const page = await context.newPage();
      await page.goto(`${base}/test/browser/fixtures/tab.html?opts=${opts}`);
      await page.waitForFunction(() => 'tabtoken' in globalThis);
      await page.evaluate(() => globalThis.tabtoken.manager.ready);
      pages.push(page);
    }
    log(`${tabs} tabs open on ${base}; reading for ${Math.round(durationMs / 1000)} s`);
    for (const page of pages) await page.evaluate(() => globalThis.tabtoken.manager.getToken());

    const before = await originJson('/__origin/stats');
    const seenBefore = new Set(await Promise.all(pages.map((p) => p.evaluate(() => globalThis.tabtoken.manager.getToken().then((jwt) => jwt.slice(-24))))));
    const startedAt = Date.now();
    // The loop keeps only bounded state in the page (counters, a latency histogram, the last 24
    // characters of each distinct token), so the heap it measures is the library's.
    await Promise.all(
      pages.map((page) =>
        page.evaluate((every) => {
          const soak = { calls: 0, errors: 0, nulls: 0, samples: [], tokens: new Set(), histogram: new Array(64).fill(0), stop: false };
          globalThis.__soak = soak;
          const loop = async () => {
            while (!soak.stop) {
              const t = performance.now();
              try {
                const jwt = await globalThis.tabtoken.manager.getToken();
                if (jwt === null) soak.nulls++;
                else soak.tokens.add(jwt.slice(-24));
              } catch (error) {
                soak.errors++;
                if (soak.samples.length < 5) soak.samples.push(String(error?.code ?? error));
              }
              soak.calls++;
              // Buckets of 0.05 ms up to 3.2 ms; the last one holds everything slower.
              soak.histogram[Math.min(63, Math.floor((performance.now() - t) / 0.05))]++;
              await new Promise((resolve) => setTimeout(resolve, every));
            }
          };
          soak.done = loop();
        }, READ_EVERY_MS),
      ),
    );

    // The heap is measured after a warm-up (the loop's code compiled, its caches filled) and at the end.
    const warmupMs = Math.min(30_000, Math.round(durationMs / 6));
    await new Promise((resolve) => setTimeout(resolve, warmupMs));
    const heapStart = await heaps(browser, pages);
    let last = Date.now();
    while (Date.now() - startedAt < durationMs) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(5000, durationMs - (Date.now() - startedAt)))));
      if (Date.now() - last >= 60_000) {
        last = Date.now();
        log(`${Math.round((Date.now() - startedAt) / 1000)} s`);
      }
    }
    const heapEnd = await heaps(browser, pages);
    const results = await Promise.all(
      pages.map((page) =>
        page.evaluate(async () => {
          const soak = globalThis.__soak;
          soak.stop = true;
          await soak.done;
          return { calls: soak.calls, errors: soak.errors, nulls: soak.nulls, samples: soak.samples, tokens: [...soak.tokens], histogram: soak.histogram };
        }),
      ),
    );
    const elapsed = Date.now() - startedAt;
    // Mints of the window against the tokens the tabs saw: read the counter until no mint lands in between.
    let after = await originJson('/__origin/stats');
    const seen = new Set(results.flatMap((r) => r.tokens));
    for (;;) {
      for (const page of pages) seen.add(await page.evaluate(() => globalThis.tabtoken.manager.getToken().then((jwt) => jwt.slice(-24))));
      const again = await originJson('/__origin/stats');
      if (again.mints === after.mints) break;
      after = again;
    }
    for (const jwt of seenBefore) seen.delete(jwt);
    const workerTabs = (await pages[0].evaluate(() => globalThis.tabtoken.manager.stats())).tabs;
    await context.close();

    const mints = (after.sessions[sessionId]?.mints ?? 0) - (before.sessions[sessionId]?.mints ?? 0);
    const calls = results.reduce((a, r) => a + r.calls, 0);
    const requests = Object.fromEntries(
      Object.keys(after.requests)
        .map((k) => [k, after.requests[k] - (before.requests[k] ?? 0)])
        .filter(([, n]) => n > 0),
    );
    const histogram = results.reduce((sum, r) => sum.map((n, i) => n + r.histogram[i]), new Array(64).fill(0));
    let below = 0;
    let p99Bucket = 63;
    for (let i = 0; i < 64; i++) {
      below += histogram[i];
      if (below >= calls * 0.99) {
        p99Bucket = i;
        break;
      }
    }
    await originJson('/__origin/reset', {});
    const out = {
      tabs,
      durationMs: elapsed,
      calls,
      callsPerSecond: Math.round(calls / (elapsed / 1000)),
      errors: results.reduce((a, r) => a + r.errors, 0) + results.reduce((a, r) => a + r.nulls, 0),
      nulls: results.reduce((a, r) => a + r.nulls, 0),
      errorSamples: results.flatMap((r) => r.samples).slice(0, 5),
      cycles: seen.size,
      mints,
      mintsPerCycle: seen.size === 0 ? 0 : Number((mints / seen.size).toFixed(2)),
      requests,
      heapGrowthBytes: {
        tabs: heapEnd.tabs - heapStart.tabs,
        perTab: Math.round((heapEnd.tabs - heapStart.tabs) / tabs),
        worker: heapEnd.worker === null || heapStart.worker === null ? null : heapEnd.worker - heapStart.worker,
      },
      heapBytes: { tabsStart: heapStart.tabs, tabsEnd: heapEnd.tabs, workerStart: heapStart.worker, workerEnd: heapEnd.worker },
      workerTabs,
      /** Upper edge of the 0.05 ms bucket holding the 99th percentile of getToken() (3.2 means slower than 3.15 ms). */
      getTokenP99Ms: Number(((p99Bucket + 1) * 0.05).toFixed(2)),
      heapMeasuredOverMs: elapsed - warmupMs,
    };
    log(
      `errors ${out.errors}, mints per cycle ${out.mintsPerCycle.toFixed(2)} (${mints} mints, ${seen.size} tokens), heap growth: tabs ${out.heapGrowthBytes.tabs} B, worker ${out.heapGrowthBytes.worker ?? 'n/a'} B`,
    );
    return out;
  } finally {
    await browser?.close();
    await server.close();
  }
}

/**
 * JS heap in use after a forced GC: the sum over the tabs, and the SharedWorker's (reached through the
 * browser's DevTools target list; null when the worker cannot be attached).
 */
async function heaps(browser, pages) {
  let tabs = 0;
  for (const page of pages) {
    // The test page keeps every event it hears; that record is the harness's, not the library's.
    await page.evaluate(() => {
      globalThis.tabtoken.events.length = 0;
    });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    tabs += (await cdp.send('Runtime.getHeapUsage')).usedSize;
    await cdp.detach();
  }
  return { tabs, worker: await workerHeap(browser) };
}

async function workerHeap(browser) {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { targetInfos } = await cdp.send('Target.getTargets');
    const worker = targetInfos.find((t) => t.type === 'shared_worker');
    if (!worker) return null;
    // A non-flattened session: commands travel inside Target.sendMessageToTarget.
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: worker.targetId, flatten: false });
    let id = 0;
    const pending = new Map();
    cdp.on('Target.receivedMessageFromTarget', (event) => {
      if (event.sessionId !== sessionId) return;
      const message = JSON.parse(event.message);
      pending.get(message.id)?.(message);
    });
    const send = (method, params = {}) =>
      new Promise((resolve, reject) => {
        const messageId = ++id;
        const timer = setTimeout(() => reject(new Error(`${method} timed out`)), 10_000);
        pending.set(messageId, (message) => {
          clearTimeout(timer);
          if (message.error) reject(new Error(message.error.message));
          else resolve(message.result);
        });
        cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: messageId, method, params }) }).catch(reject);
      });
    await send('HeapProfiler.collectGarbage');
    const { usedSize } = await send('Runtime.getHeapUsage');
    await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => {});
    return usedSize;
  } catch {
    return null;
  } finally {
    await cdp.detach().catch(() => {});
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes('--quick');
  runSoak({ quick }).then(
    (result) => {
      console.log(JSON.stringify(result, null, 2));
      process.exit(result.errors === 0 && result.mintsPerCycle === 1 ? 0 : 1);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
