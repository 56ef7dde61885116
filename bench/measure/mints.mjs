/**
 * Measurement 1: mints per refresh cycle. For every contender and every N, a browser context with
 * N real tabs that read a token every `readMs`; once all N are open, a window of `lifetimes` token
 * lifetimes is counted. All runs of a phase read side by side against one origin whose lifetime
 * was set with `POST /__origin/config`, the same for every contender.
 *
 * Counting (SPEC section 10): a mint is a 2xx answer of a token route; mints per cycle = mints ÷ the
 * number of distinct tokens that became the cached token. The server's log records which token
 * each mint answered, so both sides of the ratio cover exactly the window:
 * - mints: the run's mint requests that arrived inside the window;
 * - cycles: the tokens minted in the window that the app went on to use — read by any tab for the
 *   designs with one cache for all tabs (tabtoken in both modes, broadcast + lock, Supabase's
 *   localStorage); read by tab 0 for the per-tab design, where each tab has its own cache (counting
 *   its N caches turning as N cycles would hide exactly the cost this measures).
 * A token minted but never read is a mint without a cycle: wasted work.
 */
import { percentile, sleep } from '../lib/stats.mjs';
import { CONTENDERS, isBenchSignIn, isMint, newRunContext, openTab, openTabsByRollCall, runId } from '../lib/tabs.mjs';

const now = () => performance.timeOrigin + performance.now();

/** Runs opened at the same time. */
const OPENING_CONCURRENCY = 2;

/** Reads go on this long after the window, so a mint that arrived just before its end can be read. */
const GRACE_MS = 2000;

async function openRun({ browser, server, kind, n, readMs }) {
  const id = runId(`${kind}-n${n}`);
  const context = await newRunContext(browser, server.base, id);
  try {
    const startedAt = now();
    // Tab 0 signs in; the others open together from it, as links of the app opened in new tabs.
    const first = await openTab(context, server.base, { kind, ns: id, signIn: true, readMs });
    await openTabsByRollCall(first, n - 1, server.base, { kind, ns: id, readMs });
    return { id, kind, n, context, first, startedAt, openedAt: now() };
  } catch (error) {
    await context.close();
    throw error;
  }
}

async function finishRun(run, { server, lifetimeS, lifetimes }) {
  const { id, kind, n, context, first, startedAt, openedAt } = run;
  try {
    const windowEnd = openedAt + lifetimes * lifetimeS * 1000;
    await sleep(Math.max(0, windowEnd + GRACE_MS - now()));
    const logs = await first.evaluate((count) => globalThis.bench.collectLogs(count, 120_000), n - 1);
    const all = server.api.log.filter((e) => e.run === id && !isBenchSignIn(e));
    const inWindow = all.filter((e) => e.at >= openedAt && e.at <= windowEnd);
    const mints = inWindow.filter(isMint);
    const minted = new Set(mints.map((e) => e.token));
    const readByAny = new Set(logs.flatMap((log) => Object.keys(log.tokens)));
    const readByTab0 = Object.keys(logs[0].tokens);
    const cached = CONTENDERS[kind].sharedCache ? [...readByAny] : readByTab0;
    const cycles = cached.filter((jwt) => minted.has(jwt)).length;
    // How long each token served tab 0 (time between tab 0 first reading one token and the next).
    const firstSeen = Object.values(logs[0].tokens).sort((a, b) => a - b);
    const turns = firstSeen.slice(1).map((at, i) => (at - firstSeen[i]) / 1000);
    return {
      kind,
      n,
      lifetimeS,
      windowS: (windowEnd - openedAt) / 1000,
      openS: (openedAt - startedAt) / 1000,
      mints: mints.length,
      cycles,
      mintsPerCycle: cycles > 0 ? mints.length / cycles : NaN,
      unreadMints: [...minted].filter((jwt) => !readByAny.has(jwt)).length,
      requests: inWindow.length,
      failedRequests: inWindow.filter((e) => e.status === 0 || e.status >= 400).length,
      requestsByRoute: countBy(inWindow.map((e) => routeOf(e.url))),
      mintsWhileOpening: all.filter((e) => e.at < openedAt && isMint(e)).length,
      medianTokenServedTab0S: percentile(turns, 50),
      tabsReported: logs.length,
      reads: logs.reduce((sum, log) => sum + log.reads, 0),
      nullReads: logs.reduce((sum, log) => sum + log.nulls, 0),
      failedReads: logs.reduce((sum, log) => sum + log.errors, 0),
    };
  } finally {
    await context.close();
  }
}

function routeOf(url) {
  return url
    .replace(/\/sessions\/[^/]+\//, '/sessions/{sid}/')
    .replace(/(grant_type=[a-z_]+).*$/, '$1')
    .replace(/\?(?!grant_type).*$/, '');
}

function countBy(keys) {
  const out = {};
  for (const key of keys) out[key] = (out[key] ?? 0) + 1;
  return out;
}

/**
 * Runs every contender × N side by side and returns one row per run. Runs are opened a few at a
 * time and each run's window starts when its own tabs are all open; the windows overlap.
 * `onAllOpened` is started once every run is open (the runner measures memory then, which does not
 * depend on timing, to keep the quick mode short); it is awaited with the runs.
 * The caller sets the origin's lifetime first, the same for every contender of the phase.
 */
export async function measureMints({ browser, server, kinds, sizes, lifetimeS, lifetimes, readMs, log, onAllOpened }) {
  const finishing = [];
  // Largest runs first, so their windows overlap the most with the openings still to come.
  const order = [];
  for (const n of [...sizes].sort((a, b) => b - a)) for (const kind of kinds) order.push({ kind, n });
  // Opening a tab is partly waiting on round trips between this process and the browser, so a few
  // runs open at once.
  let next = 0;
  const opener = async () => {
    while (next < order.length) {
      const { kind, n } = order[next++];
      // One run failing (a tab that never got a token) is reported as such; the others go on.
      const failed = (error) => {
        log(`  ${CONTENDERS[kind].label} N=${n} failed: ${error.message}`);
        return { kind, n, lifetimeS, error: error.message };
      };
      let run;
      try {
        run = await openRun({ browser, server, kind, n, readMs });
      } catch (error) {
        finishing.push(Promise.resolve(failed(error)));
        continue;
      }
      log(`  opened ${CONTENDERS[kind].label} N=${n} in ${((run.openedAt - run.startedAt) / 1000).toFixed(1)} s`);
      finishing.push(
        finishRun(run, { server, lifetimeS, lifetimes }).then((row) => {
          log(`  ${CONTENDERS[kind].label} N=${n} @${lifetimeS}s: ${row.mints} mints / ${row.cycles} cycles = ${row.mintsPerCycle.toFixed(2)}`);
          return row;
        }, failed),
      );
    }
  };
  await Promise.all(Array.from({ length: OPENING_CONCURRENCY }, opener));
  const alongside = onAllOpened?.();
  const rows = await Promise.all(finishing);
  await alongside;
  return rows;
}
