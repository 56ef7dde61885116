/**
 * Measurement 4: a new tab, in one engine, through the engine-neutral driver. Time from just
 * before the contender's constructor (`createTokenManager` for tabtoken) to its first token in hand,
 * on the page's clock (`performance.timeOrigin + performance.now()`), and the requests the origin
 * received in that time:
 * - warm: another tab of the app is open and has its token (tabtoken: the worker is running). For
 *   tabtoken in shared mode, the bare mechanism is measured in the same profile, the same way, tab
 *   for tab in turn with tabtoken's: a new tab's `new SharedWorker(echoUrl)` to the first reply of an
 *   echo SharedWorker that a warm tab keeps running (bench/pages/echoWorker.ts). SPEC section 10's
 *   budget is the ratio of the two medians.
 * - reload: every tab closed, then one opened anew (tabtoken: a new worker, its token restored from
 *   IndexedDB). Requests counted are those that arrived before the tab's first token.
 * Requests come from the server's log of this run (the page tags them with a cookie), by arrival
 * time against the tab's clock (same machine, both `performance.timeOrigin + performance.now()`).
 */
import { median, sleep, summary } from '../lib/stats.mjs';
import { engineTabTimes, openEngineTab } from '../lib/engineTabs.mjs';
import { CONTENDERS, runId } from '../lib/tabs.mjs';

const now = () => performance.timeOrigin + performance.now();

/** One contender in one engine; a profile of its own, closed at the end. */
export async function measureNewTab({ server, engine, kind, warmReps, reloadReps, afterReloadMs, log }) {
  const id = runId(`newtab-${engine.name}-${kind}`);
  const profile = await engine.newProfile();
  const requestsOf = (from, to) => server.api.log.filter((e) => e.run === id && e.at >= from && e.at <= to);
  try {
    const warmTabs = [await openEngineTab(profile, server.base, { kind, ns: id, signIn: true })];
    const paired = kind === 'shared';
    if (paired) warmTabs.push(await openEngineTab(profile, server.base, { kind: 'echo', ns: id }));
    const warm = [];
    const bare = [];
    for (let i = 0; i < warmReps; i++) {
      // Tab for tab in turn, so that whatever else loads the machine meanwhile falls on both alike.
      for (const which of paired ? (i % 2 === 0 ? ['echo', kind] : [kind, 'echo']) : [kind]) {
        // Traced: the page counts the SharedWorkers it constructs (the same small wrapper for both).
        const tab = await openEngineTab(profile, server.base, { kind: which, ns: id, trace: true });
        const { createdAt, constructedAt, readyAt, firstTokenAt, trace } = await engineTabTimes(tab);
        const steps = { constructMs: constructedAt - createdAt, readyMs: readyAt - constructedAt, tokenMs: firstTokenAt - readyAt };
        // Whether the tab's first hello was answered by the worker that was already running: the echo
        // worker counts its ports (more than one: it was running for this tab); tabtoken's worker had
        // minted before (a worker that started for this tab restores the token and has minted nothing),
        // and the tab constructed one SharedWorker (more: its first did not answer and it moved to the
        // worker running the engine — after WebKitGTK ended the running one, see RELIABILITY.md).
        const alreadyRunning =
          which === 'echo'
            ? (await tab.evaluate(() => globalThis.echoConnections)) > 1
            : which === 'shared'
              ? trace.sharedWorkers === 1 && (await tab.evaluate(() => globalThis.bench.roundTrip())).mints > 0
              : null;
        (which === 'echo' ? bare : warm).push({ ms: firstTokenAt - createdAt, requests: requestsOf(createdAt, firstTokenAt).length, alreadyRunning, ...steps });
        await tab.close();
      }
    }
    for (const tab of warmTabs) await tab.close();
    const reload = [];
    for (let i = 0; i < reloadReps; i++) {
      // Let the browser tear the worker down after its last tab went away.
      await sleep(200);
      const openedAt = now();
      const tab = await openEngineTab(profile, server.base, { kind, ns: id });
      const { createdAt, firstTokenAt } = await engineTabTimes(tab);
      const stats = kind === 'shared' || kind === 'local' ? await tab.evaluate(() => globalThis.bench.roundTrip()) : null;
      await sleep(afterReloadMs);
      reload.push({
        ms: firstTokenAt - createdAt,
        requests: requestsOf(openedAt, firstTokenAt).length,
        requestsAfterFirstToken: requestsOf(firstTokenAt, now()).map((e) => e.url.replace(/\/sessions\/[^/]+\//, '/sessions/{sid}/')),
        // A worker (or leader) that started with this tab has made no mint since it started.
        engineStartedFresh: stats ? stats.mints === 0 : null,
      });
      await tab.close();
    }
    // Where the time goes, median of each step: the constructor call, from its return to `ready`
    // (the connection and the first exchange with the worker), and from `ready` to the token.
    const stepsOf = (list) => ({
      constructMsP50: median(list.map((x) => x.constructMs)),
      readyMsP50: median(list.map((x) => x.readyMs)),
      tokenMsP50: median(list.map((x) => x.tokenMs)),
    });
    const direct = warm.filter((w) => w.alreadyRunning);
    const row = {
      kind,
      warm: {
        ...summary(warm.map((w) => w.ms)),
        requests: warm.reduce((sum, w) => sum + w.requests, 0),
        reps: warm.length,
        onRunningWorker: paired ? direct.length : null,
        ...stepsOf(warm),
      },
      bare: paired
        ? { ...summary(bare.map((b) => b.ms)), reps: bare.length, onRunningWorker: bare.filter((b) => b.alreadyRunning).length, ...stepsOf(bare) }
        : null,
      ratio: paired ? median(warm.map((w) => w.ms)) / median(bare.map((b) => b.ms)) : null,
      // Both sides on the worker that was already running, when some tabtoken tabs were not.
      direct:
        paired && direct.length > 0 && direct.length < warm.length
          ? {
              ...summary(direct.map((w) => w.ms)),
              ratio: median(direct.map((w) => w.ms)) / median(bare.filter((b) => b.alreadyRunning).map((b) => b.ms)),
              ...stepsOf(direct),
            }
          : null,
      reload: {
        ...summary(reload.map((r) => r.ms)),
        requests: reload.reduce((sum, r) => sum + r.requests, 0),
        reps: reload.length,
        engineStartedFresh: reload.every((r) => r.engineStartedFresh !== false),
        requestsAfterFirstToken: reload.flatMap((r) => r.requestsAfterFirstToken),
      },
    };
    log(
      `  ${engine.name} ${CONTENDERS[kind].label}: warm p50 ${row.warm.p50.toFixed(1)} ms${paired ? ` vs bare ${row.bare.p50.toFixed(1)} ms (${row.bare.onRunningWorker}/${row.bare.reps} on the running echo worker, ${row.warm.onRunningWorker}/${row.warm.reps} on the running tabtoken worker; ratio ${row.ratio.toFixed(2)}${row.direct ? `, ${row.direct.ratio.toFixed(2)} on running workers only` : ''})` : ''} (${row.warm.requests} requests in ${warmReps}), reload p50 ${row.reload.p50.toFixed(1)} ms (${row.reload.requests} requests in ${reloadReps})`,
    );
    return row;
  } finally {
    await profile.close();
  }
}
