#!/usr/bin/env node
// Makes docs/demo.png: the demo as `npm start` serves it, driven in headless Chromium through
// playwright-core. One tab signs in and runs alone for a while, nine more open (ten in all), the
// origin goes down for a while and comes back, and the screenshot is taken of the first tab once
// every tab is `ok` again — all inside the chart's five-minute window.
//
//   node scripts/screenshotDemo.mjs            # the default 60 s token lifetime, about 3.5 minutes
//   node scripts/screenshotDemo.mjs --quick    # 20 s tokens, about 1.5 minutes (to check the layout)
//   node scripts/screenshotDemo.mjs --out /tmp/demo.png
//
// Uses CHROMIUM_PATH, else /usr/bin/chromium; run `npm ci` first.
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, out: { type: 'string', default: resolve(root, 'docs/demo.png') } } });

const TABS = 10;
// The outage lasts long enough for several refused retries and a wide amber band; after it, the
// chart runs on for another stretch so the per-tab line keeps climbing past the band.
const plan = args.quick
  ? { lifetimeSeconds: 20, beforeTabs: 8_000, beforeOutage: 20_000, outage: 15_000, after: 15_000 }
  : { lifetimeSeconds: null, beforeTabs: 50_000, beforeOutage: 40_000, outage: 30_000, after: 30_000 };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (text) => console.log(`screenshot: ${text}`);

async function control(base, path, body) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path} answered ${res.status}`);
}

const waitStatus = (page, status, timeout = 60_000) =>
  page.waitForFunction((s) => globalThis.tokens?.getSnapshot().status === s, status, { timeout, polling: 200 });

const server = await createServer({ configFile: resolve(root, 'demo/vite.config.ts'), server: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
let browser;
try {
  await server.listen();
  const { port } = server.httpServer.address();
  const base = `http://127.0.0.1:${port}`;
  const { chromiumLaunchOptions } = await server.ssrLoadModule(resolve(root, 'test/support/chromium.ts'));
  browser = await chromium.launch(chromiumLaunchOptions());
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  await control(base, '/__origin/reset', {});
  if (plan.lifetimeSeconds) await control(base, '/__origin/config', { tokenLifetimeSeconds: plan.lifetimeSeconds });

  say('first tab, signed out');
  const first = await context.newPage();
  await first.goto(base);
  await waitStatus(first, 'signed-out');
  await sleep(4000); // a few seconds signed out: the grey band at the left
  await Promise.all([first.waitForURL(`${base}/`), first.click('#sign-in')]);
  await waitStatus(first, 'ok');
  await sleep(plan.beforeTabs);

  say(`${TABS - 1} more tabs`);
  // All at once, as "Open ten tabs" does.
  const others = await Promise.all(
    Array.from({ length: TABS - 1 }, async () => {
      const page = await context.newPage();
      await page.goto(base);
      return page;
    }),
  );
  const pages = [first, ...others];
  for (const page of pages) await waitStatus(page, 'ok');
  await sleep(plan.beforeOutage);

  // The tabs see an outage at their next refresh; "Force refresh" makes that now, so the script
  // need not wait up to a token lifetime for it.
  say('origin down');
  await first.bringToFront();
  await first.click('input[name=outage][value=down]');
  await first.waitForFunction(() => document.querySelector('input[name=outage][value=down]')?.checked === true);
  await sleep(500);
  await first.click('#refresh');
  for (const page of pages) await waitStatus(page, 'degraded');
  await sleep(plan.outage);
  say('origin back');
  await first.click('input[name=outage][value=off]');
  for (const page of pages) await waitStatus(page, 'ok', 90_000);
  await sleep(plan.after);

  await first.bringToFront();
  // Every tab's tile, and the chart drawn with every mint the origin counted.
  await first.waitForFunction((n) => globalThis.demo.tiles().length === n, TABS, { timeout: 10_000 });
  const drawn = await first.evaluate(() => globalThis.demo.chart());
  await first.screenshot({ path: args.out });
  say(`${args.out}: ${drawn.mintMarks} mints drawn, per-tab SDK computed ${Math.round(drawn.perTabSdkMints)}, ${drawn.refusedMarks} refused, bands ${drawn.bands.map((b) => b.status).join(', ')}`);
  await control(base, '/__origin/reset', {});
} finally {
  await browser?.close();
  await server.close();
}
