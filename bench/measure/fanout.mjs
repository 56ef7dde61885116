/**
 * Measurement 3: fan-out. 20 tabs of tabtoken in shared mode, each its own top-level page, share
 * one worker. Tab 0 forces a new token (`getToken({ skipCache: true })`) again and again; for each
 * change the latency is from the worker publishing it to each tab having it in its snapshot.
 *
 * Publish time: the tabs use a worker script (`bench/pages/instrumentedWorker.ts`) that is the
 * library's worker, unmodified, plus an observer on `BroadcastChannel.prototype.postMessage` that
 * stamps each token message just before it is posted. Receipt time: each tab's `subscribe` listener,
 * which the mirror calls synchronously when it applies the message. Both read
 * `performance.timeOrigin + performance.now()` (SPEC section 10). The stamp itself crosses the same
 * BroadcastChannel machinery right behind the token message, and each tab notes when it arrived: the
 * same change delivered by plain BroadcastChannel, with no library code on either side — the floor
 * the library's figure is compared with.
 */
import { summary } from '../lib/stats.mjs';
import { newRunContext, openTab, openTabsFrom, runId } from '../lib/tabs.mjs';

/**
 * `processes`: 'own' opens every tab as its own page (a renderer process each); 'shared' opens 19
 * of them from tab 0 (one renderer process, one main thread for all 20).
 */
export async function measureFanout({ browser, server, tabs, changes, gapMs, processes, log }) {
  const id = runId(`fanout-${processes}`);
  const context = await newRunContext(browser, server.base, id);
  try {
    const first = await openTab(context, server.base, { kind: 'fanout', ns: id, signIn: true });
    const rest = processes === 'own'
      ? await Promise.all(Array.from({ length: tabs - 1 }, () => openTab(context, server.base, { kind: 'fanout', ns: id })))
      : await openTabsFrom(first, tabs - 1, server.base, { kind: 'fanout', ns: id });
    const pages = [first, ...rest];
    // Only the changes made once every tab listens (the first token was published before).
    const skip = await first.evaluate(() => globalThis.bench.publishes.length);
    // The loop runs in the page, so no DevTools traffic from this process competes with the fan-out.
    await first.evaluate(({ changes, gapMs }) => globalThis.bench.refreshRepeatedly(changes, gapMs), { changes, gapMs });
    const publishes = (await first.evaluate(() => globalThis.bench.publishes)).slice(skip);
    const receipts = await Promise.all(pages.map((page) => page.evaluate(() => ({ changes: globalThis.bench.changes, stamps: globalThis.bench.publishes }))));
    const perChange = [];
    const perReceipt = [];
    const channelPerChange = [];
    const overhead = [];
    let missing = 0;
    for (const { jwt, at } of publishes) {
      const arrivals = receipts.map(({ changes }) => changes.find((c) => c.jwt === jwt)?.at);
      missing += arrivals.filter((a) => a === undefined).length;
      const lags = arrivals.filter((a) => a !== undefined).map((a) => a - at);
      perReceipt.push(...lags);
      if (lags.length === pages.length) perChange.push(Math.max(...lags));
      // The same change as plain BroadcastChannel delivery: the stamp's own arrival in each tab.
      const raw = receipts.map(({ stamps }) => stamps.find((s) => s.jwt === jwt)?.receivedAt);
      if (raw.every((r) => r !== undefined)) channelPerChange.push(Math.max(...raw) - at);
      arrivals.forEach((a, i) => {
        if (a !== undefined && raw[i] !== undefined) overhead.push(a - raw[i]);
      });
    }
    const row = {
      processes,
      tabs: pages.length,
      changes: publishes.length,
      missing,
      lastTabMs: summary(perChange),
      everyTabMs: summary(perReceipt),
      channelAloneLastTabMs: summary(channelPerChange),
      // Per tab and change: snapshot updated minus the stamp's arrival (negative: the token message,
      // posted first, was handled before the stamp arrived).
      libraryOverheadMs: summary(overhead),
    };
    log(`  fan-out to ${row.tabs} tabs (${processes === 'own' ? 'a process each' : 'one process'}): last tab p50 ${row.lastTabMs.p50.toFixed(2)} ms, p99 ${row.lastTabMs.p99.toFixed(2)} ms over ${row.changes} changes`);
    return row;
  } finally {
    await context.close();
  }
}
