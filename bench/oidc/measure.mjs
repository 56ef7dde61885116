/**
 * The OpenID Connect benchmark (SPEC 10, "the real peers"): OpenID clients in N real tabs against
 * the real provider (oidc-provider, `dev/oidc/`) with refresh-token rotation on and DPoP off,
 * everything counted from the provider's own events — refreshes per cycle, `invalid_grant` answers,
 * whether the provider revoked the grant, and how many tabs end up signed out.
 *
 * Per run: one browser context (its own storage and cookies); tab 0 signs in through the provider's
 * login page (filled in by `completeDevLogin`, with the run id as the login, so the run's grant is
 * the one whose account is the run id); the other N − 1 tabs are opened from tab 0 with
 * `window.open` (a tab opened that way starts with a copy of its opener's sessionStorage); then
 * every tab reads every `readMs` for `lifetimes` access-token lifetimes.
 *
 * Plain JavaScript like the rest of bench/; the TypeScript provider is loaded with Vite's
 * `runnerImport`, the pages are built by `bench/oidc/vite.config.ts`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, preview, runnerImport } from 'vite';
import { sideBySide } from '../lib/sideBySide.mjs';
import { percentile, sleep } from '../lib/stats.mjs';
import { OIDC_CONTENDERS } from './contenders.mjs';

const configFile = fileURLToPath(new URL('./vite.config.ts', import.meta.url));
const now = () => performance.timeOrigin + performance.now();

/** Reads go on this long after the window, so a refresh that landed just before its end can be read. */
const GRACE_MS = 2000;
/** Runs opened at the same time (each sign-in drives the provider's pages). */
const OPENING_CONCURRENCY = 2;

/** What each mode measures. `refreshMarginS`: seconds before expiry a contender renews (null: the peer's own default, 60 s). */
export const OIDC_MODES = {
  quick: { sizes: [1, 5, 20], readMs: 1000, phases: [{ lifetimeS: 30, refreshMarginS: 15, lifetimes: 3 }] },
  full: {
    sizes: [1, 5, 20],
    readMs: 1000,
    phases: [
      { lifetimeS: 30, refreshMarginS: 15, lifetimes: 5 },
      { lifetimeS: 120, refreshMarginS: null, lifetimes: 3 },
    ],
  },
};

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(fileURLToPath(new URL(`../../node_modules/${name}/package.json`, import.meta.url)), 'utf8')).version;
  } catch {
    return null;
  }
}

let counter = 0;
function runId(kind, n) {
  counter += 1;
  return `${kind}-n${n}-${counter}-${Math.random().toString(36).slice(2, 7)}`;
}

async function waitForFirstToken(page, timeoutMs) {
  await page.waitForFunction(() => globalThis.benchOidc?.firstTokenAt || globalThis.benchOidc?.error, null, { timeout: timeoutMs, polling: 100 });
  const error = await page.evaluate(() => globalThis.benchOidc.error);
  if (error) throw new Error(error);
}

async function openRun({ browser, base, op, oidc, kind, n, readMs }) {
  const id = runId(kind, n);
  const context = await browser.newContext();
  try {
    const startedAt = now();
    const url = (extra = {}) => `${base}/tab.html?${new URLSearchParams({ c: kind, ns: id, read: String(readMs), ...extra })}`;
    const first = await context.newPage();
    await first.goto(url({ signin: '1' }));
    await oidc.completeDevLogin(first, { issuer: op.issuer, login: id, timeoutMs: 60_000 });
    await first.waitForURL((u) => u.pathname.endsWith('/tab.html'), { timeout: 60_000 });
    await waitForFirstToken(first, 60_000);
    const pages = [first];
    if (n > 1) {
      const opened = [];
      const onPage = (page) => opened.push(page);
      context.on('page', onPage);
      await first.evaluate(
        ({ href, count }) => {
          for (let i = 0; i < count; i++) window.open(href, '_blank');
        },
        { href: url(), count: n - 1 },
      );
      const deadline = Date.now() + 60_000;
      while (opened.length < n - 1) {
        if (Date.now() > deadline) throw new Error(`only ${opened.length} of ${n - 1} tabs opened`);
        await sleep(50);
      }
      context.off('page', onPage);
      await Promise.all(opened.map((page) => page.waitForLoadState('domcontentloaded').then(() => waitForFirstToken(page, 60_000))));
      pages.push(...opened);
    }
    const grant = op.events.grants().find((g) => g.accountId === id);
    if (!grant) throw new Error('the provider logged no grant for this run');
    return { id, kind, n, context, pages, grantId: grant.grantId, startedAt, openedAt: now() };
  } catch (error) {
    await context.close();
    throw error;
  }
}

async function finishRun(run, { op, lifetimeS, lifetimes }) {
  const { id, kind, n, context, pages, grantId, startedAt, openedAt } = run;
  try {
    const windowEnd = openedAt + lifetimes * lifetimeS * 1000;
    await sleep(Math.max(0, windowEnd + GRACE_MS - now()));
    const finals = await Promise.all(pages.map((page) => page.evaluate(() => globalThis.benchOidc.finish()).catch((error) => ({ error: String(error) }))));
    const grant = op.events.grant(grantId);
    const inWindow = (e) => e.at >= openedAt && e.at <= windowEnd;
    const refreshes = grant.refreshes.filter(inWindow);
    const errors = grant.errors.filter(inWindow);
    const logs = finals.map((f) => f.log).filter(Boolean);
    const readByAny = new Set(logs.flatMap((log) => Object.keys(log.tokens)));
    const readByTab0 = new Set(Object.keys(logs[0]?.tokens ?? {}));
    const read = OIDC_CONTENDERS[kind].sharedCache ? readByAny : readByTab0;
    const refreshed = new Set(refreshes.map((r) => r.accessToken));
    const cycles = [...refreshed].filter((token) => read.has(token)).length;
    // Whether each tab's last token is still good at the provider (a revoked grant takes its access tokens with it).
    const lastTokens = logs.map((log) => log.last);
    const active = await Promise.all(
      lastTokens.map((token) =>
        token
          ? op.introspect(token).then(
              (i) => i.active,
              () => false,
            )
          : false,
      ),
    );
    const firstSeen = Object.values(logs[0]?.tokens ?? {}).sort((a, b) => a - b);
    const turns = firstSeen.slice(1).map((at, i) => (at - firstSeen[i]) / 1000);
    return {
      kind,
      n,
      lifetimeS,
      windowS: (windowEnd - openedAt) / 1000,
      openS: (openedAt - startedAt) / 1000,
      refreshes: refreshes.length,
      /** Every refresh-grant request the provider answered in the window, 2xx or not. */
      refreshAttempts: refreshes.length + errors.filter((e) => e.grantType === 'refresh_token').length,
      cycles,
      refreshesPerCycle: cycles > 0 ? refreshes.length / cycles : NaN,
      refreshedNeverRead: [...refreshed].filter((token) => !readByAny.has(token)).length,
      refreshesWithOldToken: refreshes.filter((r) => !r.presentedWasNewest).length,
      invalidGrants: errors.filter((e) => e.error === 'invalid_grant').length,
      invalidGrantReasons: countBy(errors.filter((e) => e.error === 'invalid_grant').map((e) => e.detail ?? e.description ?? 'unknown')),
      otherTokenErrors: errors.filter((e) => e.error !== 'invalid_grant').length,
      grantRevoked: grant.revoked ? { afterS: (grant.revoked.at - openedAt) / 1000, route: grant.revoked.route } : null,
      tabsSignedOutAtEnd: finals.filter((f) => !f.signedIn).length,
      tabsWithActiveToken: active.filter(Boolean).length,
      tabsReported: logs.length,
      reads: logs.reduce((sum, log) => sum + log.reads, 0),
      nullReads: logs.reduce((sum, log) => sum + log.nulls, 0),
      failedReads: logs.reduce((sum, log) => sum + log.errors, 0),
      medianTokenServedTab0S: percentile(turns, 50),
      refreshesWhileOpening: grant.refreshes.filter((r) => r.at < openedAt).length,
      runId: id,
    };
  } finally {
    await context.close();
  }
}

function countBy(keys) {
  const out = {};
  for (const key of keys) out[key] = (out[key] ?? 0) + 1;
  return out;
}

/**
 * Runs every ready contender × N side by side, for each phase of `mode`, against one provider
 * whose access-token lifetime is set per phase. Returns what the report renders.
 */
export async function measureOidcPeers({ browser, mode, log }) {
  const settings = OIDC_MODES[mode];
  const kinds = Object.entries(OIDC_CONTENDERS)
    .filter(([, c]) => c.ready)
    .map(([kind]) => kind);
  const pending = Object.entries(OIDC_CONTENDERS)
    .filter(([, c]) => !c.ready)
    .map(([kind, c]) => ({ kind, reason: c.pending }));
  const { module: oidc } = await runnerImport(fileURLToPath(new URL('../../dev/oidc/index.ts', import.meta.url)));
  const outDir = mkdtempSync(join(tmpdir(), 'tabtoken-bench-oidc-'));
  let server;
  let op;
  try {
    await build({ configFile, build: { outDir }, logLevel: 'warn' });
    server = await preview({ configFile, build: { outDir }, preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
    const address = server.httpServer.address();
    const base = `http://127.0.0.1:${address.port}`;
    const api = server.config.plugins.find((p) => p.name === 'tabtoken:bench-oidc')?.api;
    if (!api) throw new Error('the bench-oidc plugin is missing from bench/oidc/vite.config.ts');
    const redirectUri = `${base}/callback.html`;
    op = await oidc.startOidcProvider({
      appOrigins: [base],
      redirectUris: [redirectUri],
      dpop: false,
      rotation: 'always',
      resourceServer: false,
      accessTokenTtlSeconds: settings.phases[0].lifetimeS,
    });
    log(
      `OIDC: provider ${op.issuer} (oidc-provider ${packageVersion('oidc-provider')}), pages ${base}; contenders ${kinds.join(', ')}${pending.length ? `; not ready: ${pending.map((p) => p.kind).join(', ')}` : ''}`,
    );

    const phases = [];
    for (const phase of settings.phases) {
      op.settings.accessTokenTtlSeconds = phase.lifetimeS;
      api.config = { issuer: op.issuer, clientId: op.clientId, redirectUri, refreshMarginS: phase.refreshMarginS };
      log(
        `OIDC: lifetime ${phase.lifetimeS} s, refresh margin ${phase.refreshMarginS ?? 'the peer default (60)'} s, N = ${settings.sizes.join(', ')}, ${phase.lifetimes} lifetimes`,
      );
      const rows = await sideBySide({
        sizes: settings.sizes,
        kinds,
        concurrency: OPENING_CONCURRENCY,
        lifetimeS: phase.lifetimeS,
        what: 'OIDC',
        labelOf: (kind) => OIDC_CONTENDERS[kind].label,
        log,
        open: (kind, n) => openRun({ browser, base, op, oidc, kind, n, readMs: settings.readMs }),
        finish: (run, kind, n) =>
          finishRun(run, { op, lifetimeS: phase.lifetimeS, lifetimes: phase.lifetimes }).then((row) => {
            log(
              `  OIDC ${OIDC_CONTENDERS[kind].label} N=${n} @${phase.lifetimeS}s: ${row.refreshes} refreshes / ${row.cycles} cycles, ${row.invalidGrants} invalid_grant, grant ${row.grantRevoked ? 'revoked' : 'alive'}, ${row.tabsSignedOutAtEnd}/${n} tabs signed out`,
            );
            return row;
          }),
      });
      phases.push({ ...phase, rows });
    }
    const providerErrors = op.events.events.filter((e) => e.type === 'endpoint_error').map((e) => `${e.event}: ${e.error} ${e.description ?? ''}`);
    return {
      mode,
      sizes: settings.sizes,
      readMs: settings.readMs,
      phases,
      pending,
      providerErrors: [...new Set(providerErrors)],
      versions: { oidcProvider: packageVersion('oidc-provider'), oidcClientTs: packageVersion('oidc-client-ts') },
    };
  } finally {
    await op?.stop();
    await server?.close();
    rmSync(outDir, { recursive: true, force: true });
  }
}
