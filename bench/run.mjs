#!/usr/bin/env node
/**
 * `npm run bench [-- --quick | --soak]`: the benchmarks of SPEC section 10, every contender side by
 * side in one run, written to BENCHMARKS.md (tables against the budgets) and bench/results.json
 * (raw figures). `scripts/tabtoken.mjs bench` builds the library first and sets CHROMIUM_PATH,
 * FIREFOX_PATH and WEBKIT_WEBDRIVER_PATH (installing the browsers where it can). Sections 1 and 6
 * run in Chromium; sections 2–4 in every engine the machine has, through dev/browsers/.
 *
 * Plain JavaScript, because Node 20 cannot load TypeScript: the TypeScript parts (the bench pages,
 * the baselines, the development origin, the browser launch options) are built and loaded by Vite
 * from bench/vite.config.ts. Everything is loopback-only (127.0.0.1), bounded in tabs and time.
 *
 * Modes:
 * - `--quick`: N = 1, 5, 20, three 20 s lifetimes, fewer repetitions, and the timed measurements
 *   made while the mints runs count (their figures are provisional); about 10 minutes on 2 cores
 *   with the three engines, and section 7 (OpenID Connect) adds about six. The peer's 200 s lifetime run
 *   (3 × 200 s) does not fit and is left out — the report says so.
 * - default (full): N = 1, 5, 20 and then 50, five 20 s lifetimes, and the peer also at 200 s
 *   (beside tabtoken) on a second origin with its own lifetime, during the rest of the run.
 * - `--soak`: also calls `runSoak()` from bench/soak.mjs when that file exists.
 * - `--oidc-only`: runs only the OpenID Connect benchmark (section 7, `bench/oidc/`) in the mode
 *   given, and puts it into the last run's bench/results.json and BENCHMARKS.md, keeping the rest.
 * - `--endpoint-only`: the same for the token-endpoint benchmark (section 8, `bench/endpoint/`).
 * - `--lifecycle`: runs only what the page lifecycle and a new tab's start change (about 15 minutes):
 *   the sizes; in every engine, tabtoken's shared-mode read latency (with the engine's floor for an
 *   awaited call) and its new tab against the bare echo (30 tabs each, alone on the machine); and in
 *   Chromium the back/forward cache (section 9, `bench/measure/backForward.mjs`, 10 tries at a 20 s
 *   lifetime). It replaces those rows in the last run's bench/results.json and BENCHMARKS.md, keeping
 *   the rest, and the report says which figures come from which run.
 * Every run ends with the OpenID Connect benchmark (section 7), the token-endpoint benchmark
 * (section 8) and the back/forward cache (section 9): the peers against real servers after the
 * timed parts, so they do not load them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { measureFanout } from './measure/fanout.mjs';
import { measureLatency } from './measure/latency.mjs';
import { measureMemory } from './measure/memory.mjs';
import { measureMints } from './measure/mints.mjs';
import { measureNewTab } from './measure/newTab.mjs';
import { measureBackForward } from './measure/backForward.mjs';
import { measureOidcPeers } from './oidc/measure.mjs';
import { measureEndpointPeers } from './endpoint/measure.mjs';
import { buildPages, startServer } from './lib/server.mjs';
import { openEngineTab } from './lib/engineTabs.mjs';
import { runId } from './lib/tabs.mjs';
import { renderReport } from './report.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = new Set(process.argv.slice(2));
for (const arg of args) {
  if (!['--quick', '--soak', '--oidc-only', '--endpoint-only', '--lifecycle'].includes(arg)) {
    console.error(`bench: unknown flag ${arg}; use --quick, --soak and/or one of --oidc-only, --endpoint-only, --lifecycle`);
    process.exit(2);
  }
}
if (args.has('--oidc-only') && args.has('--endpoint-only')) {
  console.error('bench: --oidc-only and --endpoint-only exclude each other');
  process.exit(2);
}
const mode = args.has('--quick') ? 'quick' : 'full';

/**
 * Every tab of the mints runs reads a token once a second. At a 20 s lifetime every Supabase read is
 * a refresh, so the read rate sets its request rate; four reads a second kept this 2-core machine
 * too busy to open the other runs in time. Both modes read at the same rate, so they compare.
 */
const READ_EVERY_MS = 1000;

/** Everything a mode changes. */
const MODES = {
  quick: {
    sizes: [1, 5, 20],
    sizeGroups: [[1, 5, 20]],
    lifetimeS: 20,
    lifetimes: 3,
    peerLongLifetime: null,
    quietAlongsideMints: true,
    readMs: READ_EVERY_MS,
    latency: { batches: 100, calls: 10_000, warmup: 5, roundTripBatches: 100, roundTripCalls: 20 },
    slowCalls: 1000,
    fanout: { changes: 50, gapMs: 60 },
    newTab: { warmReps: 5, reloadReps: 2, afterReloadMs: 100 },
    backForwardTries: 3,
    memoryExtraTabs: 2,
  },
  full: {
    sizes: [1, 5, 20, 50],
    sizeGroups: [[1, 5, 20], [50]],
    lifetimeS: 20,
    lifetimes: 5,
    peerLongLifetime: { lifetimeS: 200, lifetimes: 3, sizes: [1, 5, 20, 50] },
    quietAlongsideMints: false,
    readMs: READ_EVERY_MS,
    latency: { batches: 200, calls: 10_000, warmup: 10, roundTripBatches: 200, roundTripCalls: 20 },
    slowCalls: 1000,
    fanout: { changes: 100, gapMs: 100 },
    newTab: { warmReps: 30, reloadReps: 10, afterReloadMs: 300 },
    backForwardTries: 10,
    memoryExtraTabs: 5,
  },
};
const settings = MODES[mode];
const KINDS = ['shared', 'local', 'perTab', 'broadcastLock', 'supabase'];
/** Lifetime for the measurements other than mints: long enough that no contender refreshes during them. */
const QUIET_LIFETIME_S = 200;

const startedAt = Date.now();
const log = (line) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${line}`);

function git(...gitArgs) {
  try {
    return execFileSync('git', gitArgs, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(`${root}/node_modules/${name}/package.json`, 'utf8')).version;
  } catch {
    return null;
  }
}

function machine(browserVersion) {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    chromium: browserVersion,
    playwrightCore: packageVersion('playwright-core'),
    puppeteerCore: packageVersion('puppeteer-core'),
    vite: packageVersion('vite'),
    supabaseAuthJs: packageVersion('@supabase/auth-js'),
    platform: `${process.platform} ${process.arch}`,
    commit: git('rev-parse', '--short', 'HEAD'),
    uncommittedChanges: (git('status', '--porcelain') ?? '') !== '',
  };
}

/** Section 7 in the given browser, with the date, mode and machine load it ran under. */
async function runOidc(browser) {
  const start = loadavg();
  const date = new Date().toISOString();
  const t = Date.now();
  log('OpenID Connect (section 7)');
  const oidc = await measureOidcPeers({ browser, mode, log });
  return { ...oidc, date, durationS: (Date.now() - t) / 1000, load: { start, end: loadavg() } };
}

/** Section 8 in the given browser, with the date, mode and machine load it ran under. */
async function runEndpoint(browser) {
  const start = loadavg();
  const date = new Date().toISOString();
  const t = Date.now();
  log("the app's own token endpoint (section 8)");
  const endpoint = await measureEndpointPeers({ browser, mode, log });
  return { ...endpoint, date, durationS: (Date.now() - t) / 1000, load: { start, end: loadavg() }, machine: machine(browser.version()) };
}

/** Runs one section (`key` of the results) alone and puts it into the last run's results and report. */
async function mainOnly(key, what, runSection) {
  const path = new URL('./results.json', import.meta.url);
  if (!existsSync(path)) throw new Error(`bench/results.json is missing: run \`npm run bench\` once before \`--${key}-only\``);
  const results = JSON.parse(readFileSync(path, 'utf8'));
  const { runnerImport } = await import('vite');
  const { module: launch } = await runnerImport(fileURLToPath(new URL('../dev/browsers/chromium.ts', import.meta.url)));
  const browser = await chromium.launch(launch.chromiumLaunchOptions());
  try {
    log(`mode ${mode}, ${what} only; Chromium ${browser.version()}`);
    results[key] = await runSection(browser);
  } finally {
    await browser.close();
  }
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${root}/BENCHMARKS.md`, renderReport(results));
  log(`done: the ${what} section of BENCHMARKS.md and bench/results.json rewritten, the rest kept from ${results.date}`);
}

/** `--lifecycle`: the sizes, tabtoken's read latency and new tab in every engine, the back/forward cache. */
async function mainLifecycle() {
  const path = new URL('./results.json', import.meta.url);
  if (!existsSync(path)) throw new Error('bench/results.json is missing: run `npm run bench` once before `--lifecycle`');
  const results = JSON.parse(readFileSync(path, 'utf8'));
  const start = loadavg();
  const date = new Date().toISOString();
  const { measureSizes } = await import('./size.mjs');
  results.size = await measureSizes();
  log('sizes measured');
  const pages = await buildPages();
  const servers = [];
  const run = {
    date,
    mode: 'lifecycle',
    commit: git('rev-parse', '--short', 'HEAD'),
    uncommittedChanges: (git('status', '--porcelain') ?? '') !== '',
    load: { start },
    engines: {},
  };
  try {
    const quiet = await startServer(pages.outDir);
    servers.push(quiet);
    await quiet.setLifetime(QUIET_LIFETIME_S);
    const { engines } = quiet.api;
    for (const name of engines.ENGINE_NAMES) {
      const missing = engines.engineMissing(name);
      const entry = results.engines?.[name];
      if (missing !== null || !entry || entry.skipped) {
        log(`${engines.ENGINE_LABELS[name]}: skipped (${missing ?? 'not in the last run'})`);
        continue;
      }
      run.engines[name] = { load: loadavg() };
      const engine = await engines.launchEngine(name);
      try {
        entry.version = engine.version;
        log(`${entry.label} ${engine.version}`);
        const profile = await engine.newProfile();
        try {
          const tab = await openEngineTab(profile, quiet.base, { kind: 'shared', ns: runId(`latency-${name}-shared`), signIn: true });
          entry.timer = await tab.evaluate(() => globalThis.bench.timer());
          const row = await measureLatency({
            page: tab,
            kind: 'shared',
            spec: MODES.full.latency,
            slowCalls: settings.slowCalls,
            log: (line) => log(`  ${name}${line}`),
          });
          entry.latency = [...entry.latency.filter((l) => l.kind !== 'shared'), row];
        } finally {
          await profile.close();
        }
        const newTab = await measureNewTab({ server: quiet, engine, kind: 'shared', ...MODES.full.newTab, log });
        entry.newTab = [...entry.newTab.filter((t) => t.kind !== 'shared'), newTab];
      } finally {
        await engine.close();
      }
    }
    const bfServer = await startServer(pages.outDir);
    servers.push(bfServer);
    const lifetimeS = 20;
    await bfServer.setLifetime(lifetimeS);
    run.load.backForward = loadavg();
    log('back/forward cache (Chromium)');
    results.backForward = await measureBackForward({ server: bfServer, tries: MODES.full.backForwardTries, lifetimeS, log });
  } finally {
    for (const server of servers) await server.close();
    pages.remove();
  }
  run.load.end = loadavg();
  run.durationS = (Date.now() - startedAt) / 1000;
  results.lifecycleRun = run;
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${root}/BENCHMARKS.md`, renderReport(results));
  log(
    `done in ${run.durationS.toFixed(0)} s: tabtoken's shared-mode rows of sections 2 and 4, the sizes and section 9 of BENCHMARKS.md and bench/results.json rewritten, the rest kept from ${results.date}`,
  );
}

async function main() {
  log(`mode ${mode}`);
  const results = { mode, date: new Date().toISOString(), settings, quietLifetimeS: QUIET_LIFETIME_S, machine: null, phases: {}, load: {} };
  const phase = (name) => {
    results.load[name] = loadavg();
    log(name);
    return Date.now();
  };
  const { measureSizes, measurePeerSize } = await import('./size.mjs');
  results.size = await measureSizes();
  results.peerSize = await measurePeerSize();
  log('sizes measured');

  const pages = await buildPages();
  const servers = [];
  let browser;
  try {
    const server = await startServer(pages.outDir);
    servers.push(server);
    browser = await chromium.launch(server.api.chromiumLaunchOptions());
    results.machine = machine(browser.version());
    log(`server ${server.base}, Chromium ${browser.version()}`);

    // Sections 2–4 (in every engine) and 6 run against an origin whose tokens outlive them (QUIET_LIFETIME_S), so no
    // contender refreshes meanwhile; section 1 against one at the short lifetime. Full mode runs
    // 2–4 first, alone on the machine, and then section 1 with the peer's 200 s run on a second
    // origin beside it. Quick mode cannot spend that time: it runs 2–4 while the runs of section 1
    // count (the report says their timings carry that load). Memory (6) does not depend on timing
    // and is always measured while section 1 counts (in quick mode beside 2–4 as well).
    const quietServer = await startServer(pages.outDir);
    servers.push(quietServer);
    await quietServer.setLifetime(QUIET_LIFETIME_S);
    results.quietAlongsideMints = settings.quietAlongsideMints;

    const measureQuiet = async () => {
      // Sections 2–4 in every engine the machine has, one engine at a time, through the
      // engine-neutral driver: the same pages, the same way of opening tabs, side by side.
      const t = phase('read latency, new tab and fan-out, per engine');
      const { engines } = server.api;
      results.engines = {};
      for (const name of engines.ENGINE_NAMES) {
        const label = engines.ENGINE_LABELS[name];
        const missing = engines.engineMissing(name);
        if (missing !== null) {
          results.engines[name] = { label, skipped: missing };
          log(`${label}: skipped (${missing})`);
          continue;
        }
        const engine = await engines.launchEngine(name);
        try {
          const entry = { label, version: engine.version, latency: [], newTab: [], fanout: null, timer: null };
          log(`${label} ${engine.version}`);
          for (const kind of KINDS) {
            const profile = await engine.newProfile();
            try {
              const tab = await openEngineTab(profile, quietServer.base, { kind, ns: runId(`latency-${name}-${kind}`), signIn: true });
              entry.timer ??= await tab.evaluate(() => globalThis.bench.timer());
              entry.latency.push(
                await measureLatency({ page: tab, kind, spec: settings.latency, slowCalls: settings.slowCalls, log: (line) => log(`  ${name}${line}`) }),
              );
            } finally {
              await profile.close();
            }
          }
          log(`  ${name} timer: cross-origin isolated ${entry.timer.crossOriginIsolated}, resolution ${entry.timer.resolutionUs.toFixed(1)} µs`);
          for (const kind of KINDS) entry.newTab.push(await measureNewTab({ server: quietServer, engine, kind, ...settings.newTab, log }));
          entry.fanout = await measureFanout({ engine, server: quietServer, tabs: 20, changes: settings.fanout.changes, gapMs: settings.fanout.gapMs, log });
          results.engines[name] = entry;
        } finally {
          await engine.close();
        }
      }
      results.phases.enginesS = (Date.now() - t) / 1000;
    };
    const measureMemoryNow = async () => {
      const t = phase('memory (alongside the mints runs)');
      results.memory = await measureMemory({ browser, server: quietServer, kinds: KINDS, extraTabs: settings.memoryExtraTabs, log });
      results.phases.memoryS = (Date.now() - t) / 1000;
    };

    if (!settings.quietAlongsideMints) await measureQuiet();

    // Section 1, and in full mode the peer's 200 s run on the quiet origin beside it.
    const t = phase('mints');
    const jobs = [];
    if (settings.peerLongLifetime) {
      const { lifetimeS, lifetimes, sizes } = settings.peerLongLifetime;
      await quietServer.setLifetime(lifetimeS);
      log(`mints at ${lifetimeS} s (peer and tabtoken shared) on ${quietServer.base}, ${lifetimes} lifetimes`);
      jobs.push(
        measureMints({ browser, server: quietServer, kinds: ['shared', 'supabase'], sizes, lifetimeS, lifetimes, readMs: settings.readMs, log }).then(
          (rows) => {
            results.mintsLong = rows;
          },
        ),
      );
    }
    await server.setLifetime(settings.lifetimeS);
    log(`mints at ${settings.lifetimeS} s, N = ${settings.sizes.join(', ')}, ${settings.lifetimes} lifetimes`);
    // Quick mode measures memory beside sections 2–4 too: heap sizes do not depend on timing.
    const onAllOpened = () => (settings.quietAlongsideMints ? Promise.all([measureQuiet(), measureMemoryNow()]) : measureMemoryNow());
    // The largest runs (50 tabs each) count after the others, not beside them: five of them at once
    // on top of the rest would load the machine so much that what is measured is the machine.
    jobs.push(
      (async () => {
        results.mints = [];
        for (const [i, sizes] of settings.sizeGroups.entries()) {
          results.mints.push(
            ...(await measureMints({
              browser,
              server,
              kinds: KINDS,
              sizes,
              lifetimeS: settings.lifetimeS,
              lifetimes: settings.lifetimes,
              readMs: settings.readMs,
              log,
              ...(i === 0 ? { onAllOpened } : {}),
            })),
          );
        }
      })(),
    );
    await Promise.all(jobs);
    results.phases.mintsS = (Date.now() - t) / 1000;
    const tOidc = phase('OpenID Connect');
    results.oidc = await runOidc(browser);
    results.phases.oidcS = (Date.now() - tOidc) / 1000;
    const tEndpoint = phase('token endpoint');
    results.endpoint = await runEndpoint(browser);
    results.phases.endpointS = (Date.now() - tEndpoint) / 1000;
    // Section 9 on an origin of its own at a 20 s lifetime: a tab away for longer than that and back.
    const tBf = phase('back/forward cache');
    const bfServer = await startServer(pages.outDir);
    servers.push(bfServer);
    await bfServer.setLifetime(settings.lifetimeS);
    results.backForward = await measureBackForward({ server: bfServer, tries: settings.backForwardTries, lifetimeS: settings.lifetimeS, log });
    results.phases.backForwardS = (Date.now() - tBf) / 1000;
  } finally {
    await browser?.close();
    for (const server of servers) await server.close();
    pages.remove();
  }

  // The soak starts its own server and browser: it runs once everything of this run is closed.
  if (args.has('--soak')) {
    if (existsSync(new URL('./soak.mjs', import.meta.url))) {
      const t = phase('soak (bench/soak.mjs)');
      const { runSoak } = await import('./soak.mjs');
      results.soak = await runSoak({ quick: mode === 'quick', log: (line) => log(`  soak: ${line}`) });
      results.phases.soakS = (Date.now() - t) / 1000;
    } else {
      results.soak = { skipped: 'bench/soak.mjs does not exist yet' };
      log('soak skipped: bench/soak.mjs does not exist');
    }
  }

  results.load.end = loadavg();
  results.durationS = (Date.now() - startedAt) / 1000;
  writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${root}/BENCHMARKS.md`, renderReport(results));
  log(`done in ${results.durationS.toFixed(0)} s: BENCHMARKS.md and bench/results.json written`);
}

const entry = args.has('--lifecycle')
  ? mainLifecycle()
  : args.has('--oidc-only')
    ? mainOnly('oidc', 'OpenID Connect', runOidc)
    : args.has('--endpoint-only')
      ? mainOnly('endpoint', 'token endpoint', runEndpoint)
      : main();
entry.catch((error) => {
  console.error(error);
  process.exit(1);
});
