/**
 * Measurement 8 (SPEC 10, back/forward cache): Chromium with its back/forward cache on (playwright
 * turns it off unless `--disable-back-forward-cache` is left out). A signed-in tab stays open (its
 * worker keeps refreshing the token); another tab of tabtoken (bench/pages/backForward.html) goes to
 * another page for longer than a token lifetime and back, `tries` times. Each try records:
 * - whether the page was restored from the cache (its first `pageshow` listener saw `persisted`, and
 *   Chromium sent no `Page.backForwardCacheNotUsed`, whose reasons are kept otherwise);
 * - the first `getToken()` called in that listener, from the listener's start to the token in hand,
 *   and whether it is the staying tab's current token and unexpired;
 * - the bare mechanism's first round trip after the same restore: the echo SharedWorker's reply to a
 *   message posted in that listener;
 * - a warm comlink round trip (`stats()`, median of 50) timed in the same page just before it left.
 * The budget: restored every time, and the first token within echo + 2 × round trip.
 */
import { chromium } from 'playwright-core';
import { median, sleep } from '../lib/stats.mjs';
import { runId } from '../lib/tabs.mjs';

const payload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

export async function measureBackForward({ server, tries, lifetimeS, log }) {
  const launch = server.api.chromiumLaunchOptions();
  const browser = await chromium.launch({ ...launch, ignoreDefaultArgs: ['--disable-back-forward-cache'] });
  const id = runId('backforward');
  const url = (signIn) => `${server.base}/pages/backForward.html?ns=${id}${signIn ? '&signin=1' : ''}`;
  const ready = async (page) => {
    await page.waitForFunction(() => globalThis.bf?.ready || globalThis.bf?.error, null, { timeout: 60_000 });
    const error = await page.evaluate(() => globalThis.bf.error);
    if (error) throw new Error(`back/forward page failed: ${error}`);
  };
  try {
    const context = await browser.newContext();
    await context.addCookies([{ name: 'bench_run', value: id, url: server.base }]);
    const stay = await context.newPage();
    await stay.goto(url(true));
    await ready(stay);
    const traveler = await context.newPage();
    await traveler.goto(url(false));
    await ready(traveler);
    const cdp = await context.newCDPSession(traveler);
    let reasons = [];
    cdp.on('Page.backForwardCacheNotUsed', (event) => reasons.push(...event.notRestoredExplanations.map((e) => e.reason)));
    await cdp.send('Page.enable');
    const rows = [];
    for (let i = 0; i < tries; i++) {
      reasons = [];
      const roundTripMs = await traveler.evaluate(() => globalThis.bf.roundTrip(50));
      const left = await traveler.evaluate(() => globalThis.bf.token());
      const leftAt = Date.now();
      await traveler.goto(`${server.base}/v1/client`);
      // Away for longer than a token lifetime and past the expiry of the token the tab left with.
      await sleep(Math.max(lifetimeS * 1000, payload(left).exp * 1000 - leftAt) + 1000);
      await traveler.goBack({ waitUntil: 'commit' });
      const restore = await traveler
        .waitForFunction(
          (n) => {
            const r = globalThis.bf?.restores?.[n];
            return r && (r.error || (r.tokenMs !== null && r.echoMs !== null)) ? r : null;
          },
          i,
          { timeout: 15_000 },
        )
        .then(
          (handle) => handle.jsonValue(),
          () => null,
        );
      const current = await stay.evaluate(() => globalThis.bf.token());
      const restored = restore !== null && reasons.length === 0;
      const row = {
        restored,
        reasons,
        awayMs: restore ? restore.at - leftAt : null,
        tokenMs: restore?.tokenMs ?? null,
        echoMs: restore?.echoMs ?? null,
        roundTripMs,
        error: restore?.error ?? null,
        // The staying tab may take a refresh between the two reads: equal to its token then, or the one before.
        currentToken: restore?.jwt != null && (restore.jwt === current || payload(restore.jwt).iat <= payload(current).iat),
        unexpired: restore?.jwt != null && payload(restore.jwt).exp * 1000 > restore.at + restore.tokenMs,
        notTheTokenItLeftWith: restore?.jwt != null && restore.jwt !== left,
      };
      row.withinBudget = row.tokenMs !== null && row.echoMs !== null && row.tokenMs <= row.echoMs + 2 * roundTripMs;
      rows.push(row);
      log(
        `  back/forward try ${i + 1}: ${restored ? 'restored' : `not restored (${reasons.join(', ') || 'no pageshow'})`}, first token ${row.tokenMs?.toFixed(2)} ms, echo ${row.echoMs?.toFixed(2)} ms, round trip ${roundTripMs.toFixed(3)} ms`,
      );
    }
    const restoredRows = rows.filter((r) => r.restored);
    const of = (key) => median(restoredRows.map((r) => r[key]).filter((v) => v !== null));
    return {
      tries,
      lifetimeS,
      restored: restoredRows.length,
      reasons: [...new Set(rows.flatMap((r) => r.reasons))],
      tokenMsP50: of('tokenMs'),
      echoMsP50: of('echoMs'),
      roundTripMsP50: of('roundTripMs'),
      withinBudget: rows.filter((r) => r.withinBudget).length,
      currentToken: rows.filter((r) => r.currentToken).length,
      unexpired: rows.filter((r) => r.unexpired).length,
      errors: rows.filter((r) => r.error).length,
      rows,
      chromium: browser.version(),
    };
  } finally {
    await browser.close();
  }
}
