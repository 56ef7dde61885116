/**
 * Measurement 4: a new tab. Time from the contender's constructor (`createTokenManager` for
 * tabtoken) to its first token, and the requests the origin received in that time:
 * - warm: another tab of the app is open and has its token (tabtoken: the worker is running); the
 *   new tab is opened from it;
 * - reload: every tab closed, then one opened anew (tabtoken: a new worker, its token restored from
 *   IndexedDB). Requests counted are those that arrived before the tab's first token.
 * Requests are taken from the server's log of this run (its own browser context), by arrival time
 * against the tab's clock (same machine, both `performance.timeOrigin + performance.now()`).
 * Warm tabs are traced (see `traceStart` in bench/pages/contender.ts) to split the time into its steps.
 */
import { median, sleep, summary } from '../lib/stats.mjs';
import { CONTENDERS, firstTokenTimes, openTab, openTabsFrom } from '../lib/tabs.mjs';

const now = () => performance.timeOrigin + performance.now();

function nullableMedian(values) {
  const known = values.filter((v) => v !== null);
  return known.length ? median(known) : null;
}

/**
 * One contender: `warmTab` is a signed-in tab of `context` (run `id`) with a fresh token. Closes it
 * (the reload part needs every tab of the context closed).
 */
export async function measureNewTab({ server, context, warmTab, id, kind, warmReps, reloadReps, afterReloadMs, log }) {
  const requestsOf = (from, to) => server.api.log.filter((e) => e.run === id && e.at >= from && e.at <= to);
  const warm = [];
  for (let i = 0; i < warmReps; i++) {
    // Traced tabs: wrappers around navigator.locks.request and SharedWorker time the steps.
    const [page] = await openTabsFrom(warmTab, 1, server.base, { kind, ns: id, trace: true });
    const { createdAt, readyAt, firstTokenAt, trace } = await firstTokenTimes(page);
    warm.push({
      ms: firstTokenAt - createdAt,
      requests: requestsOf(createdAt, firstTokenAt).length,
      readyMs: readyAt - createdAt,
      lockWaitMs: trace.lockGranted !== null && trace.lockRequested !== null ? trace.lockGranted - trace.lockRequested : null,
      replyMs: trace.workerReply !== null && trace.lockRequested !== null ? trace.workerReply - trace.lockRequested : null,
    });
    await page.close();
  }
  const reload = [];
  await warmTab.close();
  for (let i = 0; i < reloadReps; i++) {
    // Let the browser tear the worker down after its last tab went away.
    await sleep(200);
    const openedAt = now();
    const page = await openTab(context, server.base, { kind, ns: id });
    const { createdAt, firstTokenAt } = await firstTokenTimes(page);
    const stats = kind === 'shared' || kind === 'local' ? await page.evaluate(() => globalThis.bench.roundTrip()) : null;
    await sleep(afterReloadMs);
    reload.push({
      ms: firstTokenAt - createdAt,
      requests: requestsOf(openedAt, firstTokenAt).length,
      requestsAfterFirstToken: requestsOf(firstTokenAt, now()).map((e) => e.url.replace(/\/sessions\/[^/]+\//, '/sessions/{sid}/')),
      // A worker (or leader) that started with this tab has made no mint since it started.
      engineStartedFresh: stats ? stats.mints === 0 : null,
    });
    await page.close();
  }
  const row = {
    kind,
    warm: {
      ...summary(warm.map((w) => w.ms)),
      requests: warm.reduce((sum, w) => sum + w.requests, 0),
      reps: warm.length,
      readyMsP50: median(warm.map((w) => w.readyMs)),
      // The steps of the start, from the traced browser APIs, both from the tab's first Web Lock
      // request (made as the manager is created): to its grant, and to the worker's first reply
      // (connect + hello round trip). They run side by side.
      lockWaitMsP50: nullableMedian(warm.map((w) => w.lockWaitMs)),
      replyMsP50: nullableMedian(warm.map((w) => w.replyMs)),
    },
    reload: {
      ...summary(reload.map((r) => r.ms)),
      requests: reload.reduce((sum, r) => sum + r.requests, 0),
      reps: reload.length,
      engineStartedFresh: reload.every((r) => r.engineStartedFresh !== false),
      requestsAfterFirstToken: reload.flatMap((r) => r.requestsAfterFirstToken),
    },
  };
  log(`  ${CONTENDERS[kind].label}: warm p50 ${row.warm.p50.toFixed(1)} ms (${row.warm.requests} requests in ${warmReps}), reload p50 ${row.reload.p50.toFixed(1)} ms (${row.reload.requests} requests in ${reloadReps})`);
  return row;
}
