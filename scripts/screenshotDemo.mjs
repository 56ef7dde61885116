#!/usr/bin/env node
// Makes docs/demo.png: the demo as `npm start` serves it, driven in headless Chromium through
// playwright-core. One tab signs in and runs alone for a while, nine more open (ten in all; --tabs
// sets another count), the origin goes down for a while and comes back, and the screenshot is taken
// of the first tab once every tab is `ok` again — all inside the chart's five-minute window.
//
//   node scripts/screenshotDemo.mjs            # the default 60 s token lifetime, about 3.5 minutes
//   node scripts/screenshotDemo.mjs --quick    # 20 s tokens, about 1.5 minutes (to check the layout)
//   node scripts/screenshotDemo.mjs --out /tmp/demo.png
//   node scripts/screenshotDemo.mjs --oidc --tabs 3 --quick --out /tmp/demo-oidc.png
//   node scripts/screenshotDemo.mjs --origin endpoint --tabs 5 --quick --out /tmp/demo-endpoint.png
//   node scripts/screenshotDemo.mjs --origin better-auth --tabs 3 --out /tmp/demo-better-auth.png
//
// With --oidc (or --origin oidc) the page runs against the OpenID provider (`/?origin=oidc`): the
// first tab signs in on the provider's login page, and the outage stops the proxy in front of the
// provider. With --origin endpoint it runs against the app's own token endpoint (the development
// origin's rotating refresh cookie) and with --origin better-auth against better-auth: the first
// tab signs in on the demo's sign-in page. better-auth's tokens live 60 s, --quick or not.
//
// Uses CHROMIUM_PATH, else /usr/bin/chromium; run `npm ci` first.
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    oidc: { type: 'boolean', default: false },
    origin: { type: 'string', default: 'clerk' },
    tabs: { type: 'string', default: '10' },
    out: { type: 'string', default: resolve(root, 'docs/demo.png') },
  },
});

const ORIGINS = ['clerk', 'oidc', 'endpoint', 'better-auth'];
const kind = args.oidc ? 'oidc' : args.origin;
if (!ORIGINS.includes(kind)) throw new Error(`--origin must be one of ${ORIGINS.join(', ')}, not ${kind}`);
// The development origin serves the Clerk-shaped routes and the app session routes alike.
const devOrigin = kind === 'clerk' || kind === 'endpoint';
const TABS = Number(args.tabs);
if (!Number.isInteger(TABS) || TABS < 1 || TABS > 20) throw new Error(`--tabs must be an integer 1..20, not ${args.tabs}`);
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
  const home = kind === 'clerk' ? `${base}/` : `${base}/?origin=${kind}`;
  const { chromiumLaunchOptions } = await server.ssrLoadModule(resolve(root, 'dev/browsers/chromium.ts'));
  browser = await chromium.launch(chromiumLaunchOptions());
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  let provider = null;
  if (kind === 'oidc') {
    // /demo/oidc-config answers once the provider runs; the plugin then hands it over.
    const res = await fetch(`${base}/demo/oidc-config`);
    if (!res.ok) throw new Error(`/demo/oidc-config answered ${res.status}`);
    provider = server.config.plugins.find((p) => p.name === 'tabtoken:oidc-provider')?.api.provider() ?? null;
    if (!provider) throw new Error('the demo server runs no OpenID provider');
    if (plan.lifetimeSeconds) provider.settings.accessTokenTtlSeconds = plan.lifetimeSeconds;
  } else if (devOrigin) {
    await control(base, '/__origin/reset', {});
    if (plan.lifetimeSeconds) await control(base, '/__origin/config', { tokenLifetimeSeconds: plan.lifetimeSeconds });
  }

  say('first tab, signed out');
  const first = await context.newPage();
  await first.goto(home);
  await waitStatus(first, 'signed-out');
  await sleep(4000); // a few seconds signed out: the grey band at the left
  if (provider) {
    const { completeDevLogin } = await server.ssrLoadModule(resolve(root, 'dev/oidc/completeDevLogin.ts'));
    await first.click('#sign-in');
    await completeDevLogin(first, { issuer: provider.issuer, login: 'alice' });
    await first.waitForURL(home);
  } else if (kind === 'endpoint' || kind === 'better-auth') {
    // The demo's sign-in page: the app's own form, then tokens.sync(), then back.
    await first.click('#sign-in');
    await first.waitForURL((url) => url.pathname === '/sign-in.html');
    const submit = kind === 'endpoint' ? '#app-form button[type=submit]' : '#better-auth-form button[value=sign-up]';
    await Promise.all([first.waitForURL(home), first.click(submit)]);
  } else {
    await Promise.all([first.waitForURL(home), first.click('#sign-in')]);
  }
  await waitStatus(first, 'ok');
  await sleep(plan.beforeTabs);

  say(`${TABS - 1} more tabs`);
  // All at once, as "Open ten tabs" does.
  const others = await Promise.all(
    Array.from({ length: TABS - 1 }, async () => {
      const page = await context.newPage();
      await page.goto(home);
      return page;
    }),
  );
  const pages = [first, ...others];
  for (const page of pages) await waitStatus(page, 'ok');
  await sleep(plan.beforeOutage);

  // The tabs see an outage at their next refresh; "Force refresh" makes that now, so the script
  // need not wait up to a token lifetime for it.
  say(provider ? 'provider down (its proxy stopped)' : 'origin down');
  await first.bringToFront();
  await first.click('input[name=outage][value=down]');
  await first.waitForFunction(() => document.querySelector('input[name=outage][value=down]')?.checked === true);
  await sleep(500);
  await first.click('#refresh');
  for (const page of pages) await waitStatus(page, 'degraded');
  await sleep(plan.outage);
  say(provider ? 'provider back' : 'origin back');
  await first.click('input[name=outage][value=off]');
  for (const page of pages) await waitStatus(page, 'ok', 90_000);
  await sleep(plan.after);

  await first.bringToFront();
  // Every tab's tile, and the chart drawn with every mint the origin counted.
  await first.waitForFunction((n) => globalThis.demo.tiles().length === n, TABS, { timeout: 10_000 });
  const drawn = await first.evaluate(() => globalThis.demo.chart());
  // Clicking the controls may have scrolled the page: the picture is of its top.
  await first.evaluate(() => window.scrollTo(0, 0));
  await first.screenshot({ path: args.out });
  say(
    `${args.out}: ${drawn.mintMarks} mints drawn, per-tab SDK computed ${Math.round(drawn.perTabSdkMints)}, ${drawn.refusedMarks} refused, bands ${drawn.bands.map((b) => b.status).join(', ')}`,
  );
  if (devOrigin) await control(base, '/__origin/reset', {});
} finally {
  await browser?.close();
  await server.close();
}
