/**
 * Measurement 3: fan-out, in one engine, through the engine-neutral driver. 20 tabs of tabtoken in
 * shared mode, each a top-level tab of one profile, share one worker. Tab 0 forces a new token
 * (`getToken({ skipCache: true })`) again and again; for each change the latency is from the worker
 * publishing it to each tab having it in its snapshot.
 *
 * Publish time: the tabs use a worker script (`bench/pages/instrumentedWorker.ts`) that is the
 * library's worker, unmodified, plus an observer on `BroadcastChannel.prototype.postMessage` that
 * stamps each token message just before it is posted and posts that stamp on a plain side channel
 * right after it. Receipt times in each tab: its `subscribe` listener, which the mirror calls
 * synchronously as it applies the message, and the stamp's own arrival — the same change delivered
 * by plain BroadcastChannel, with no library code on either side. SPEC section 10's budget is the
 * library's lag behind that delivery (token in the snapshot − stamp arrival, per tab and change, p99);
 * the absolute last-tab figures are reported beside it. Clock: `performance.timeOrigin +
 * performance.now()` in the worker and in each tab.
 */
import { summary } from '../lib/stats.mjs';
import { openEngineTab } from '../lib/engineTabs.mjs';
import { runId } from '../lib/tabs.mjs';

export async function measureFanout({ engine, server, tabs, changes, gapMs, log }) {
  const id = runId(`fanout-${engine.name}`);
  const profile = await engine.newProfile();
  try {
    const first = await openEngineTab(profile, server.base, { kind: 'fanout', ns: id, signIn: true });
    const pages = [first];
    for (let i = 1; i < tabs; i++) pages.push(await openEngineTab(profile, server.base, { kind: 'fanout', ns: id }));
    // Only the changes made once every tab listens (the first token was published before).
    const skip = await first.evaluate(() => globalThis.bench.publishes.length);
    // The loop runs in the page, so no driver traffic competes with the fan-out.
    await first.evaluate(({ changes, gapMs }) => globalThis.bench.refreshRepeatedly(changes, gapMs), { changes, gapMs });
    const publishes = (await first.evaluate(() => globalThis.bench.publishes)).slice(skip);
    const receipts = [];
    for (const page of pages) receipts.push(await page.evaluate(() => ({ changes: globalThis.bench.changes, stamps: globalThis.bench.publishes })));
    const perChange = [];
    const perReceipt = [];
    const channelPerChange = [];
    const lag = [];
    let missing = 0;
    for (const { jwt, at } of publishes) {
      const arrivals = receipts.map(({ changes }) => changes.find((c) => c.jwt === jwt)?.at);
      missing += arrivals.filter((a) => a === undefined).length;
      const lags = arrivals.filter((a) => a !== undefined).map((a) => a - at);
      perReceipt.push(...lags);
      if (lags.length === pages.length) perChange.push(Math.max(...lags));
      const raw = receipts.map(({ stamps }) => stamps.find((s) => s.jwt === jwt)?.receivedAt);
      if (raw.every((r) => r !== undefined)) channelPerChange.push(Math.max(...raw) - at);
      arrivals.forEach((a, i) => {
        if (a !== undefined && raw[i] !== undefined) lag.push(a - raw[i]);
      });
    }
    const row = {
      tabs: pages.length,
      changes: publishes.length,
      missing,
      lastTabMs: summary(perChange),
      everyTabMs: summary(perReceipt),
      channelAloneLastTabMs: summary(channelPerChange),
      // Per tab and change: token in the snapshot minus the stamp's arrival (negative: the token
      // message, posted first, was applied before the stamp arrived).
      libraryLagMs: summary(lag),
    };
    log(
      `  ${engine.name} fan-out to ${row.tabs} tabs: library lag p99 ${row.libraryLagMs.p99.toFixed(2)} ms; last tab p50 ${row.lastTabMs.p50.toFixed(2)} ms, p99 ${row.lastTabMs.p99.toFixed(2)} ms over ${row.changes} changes`,
    );
    return row;
  } finally {
    await profile.close();
  }
}
