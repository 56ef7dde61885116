/**
 * The cross-engine suite, written once over the engine-neutral driver (dev/browsers/) and
 * run in Chromium, Firefox and WebKit by the three files beside it. One browser per engine for the
 * whole file, a profile of its own per test (its own cookie jar, so its own session at the origin,
 * and its own storage and workers), 20 s tokens and `pollIntervalMs: 1000` so that a refresh cycle
 * is 5 s. The origin outage runs on a server of its own (an outage is origin-wide) alongside the
 * other tests, which run one after the other: their request counts are the origin's.
 *
 * Where the engine's driver can end a SharedWorker from outside (Chromium), the worker-death test
 * does that; everywhere, the worker also ends itself (`close()`, through
 * test/browser/fixtures/closableWorker.ts), since Firefox and WebKit give a test no other way.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  ENGINE_LABELS,
  engineMissing,
  launchEngine,
  waitInTab,
  type Engine,
  type EngineName,
  type EngineProfile,
  type EngineTab,
} from '../../../dev/browsers/index.ts';
import { mintLog, origin, refreshedSince, repeatUntil, sleep, stats, startTestServer, totalRequests, waitFor, type TestServer } from '../drills/support.ts';
import { packagedApp, previewPackagedApp } from '../support/packagedApp.ts';
import { keyOf, workerEnded } from '../support/workerState.ts';
import { getToken, openAppTab, peekToken, reloadAppTab, signIn, snapshotOf, statsOf, storedValues, whenReady } from './appTabs.ts';

const POLL_MS = 1000;
const LIFETIME_S = 20;
const CLOSABLE_WORKER = '/test/browser/fixtures/closableWorker.ts';

let namespaces = 0;
const namespaceFor = (engine: EngineName, what: string) => `${engine}-${what}-${++namespaces}-${Math.random().toString(36).slice(2, 6)}`;

const mintsOf = async (base: string, sessionId: string): Promise<number> => (await stats(base)).sessions[sessionId]?.mints ?? 0;

/** One figure per test, printed for RELIABILITY.md's per-engine table. */
function report(engine: EngineName, test: string, figures: object): void {
  console.info(`[engines] ${engine} ${test} ${JSON.stringify(figures)}`);
}

/** Opens `count` tabs one after the other (in a local-mode test, the first is the leader). */
async function openTabs(
  profile: EngineProfile,
  base: string,
  count: number,
  options: { namespace: string; [k: string]: unknown },
  flags: { nosw?: boolean } = {},
): Promise<EngineTab[]> {
  const tabs: EngineTab[] = [];
  for (let i = 0; i < count; i++) tabs.push(await openAppTab(profile, base, { pollIntervalMs: POLL_MS, ...options }, flags));
  return tabs;
}

/**
 * Defines the suite for one engine. A browser that is not installed skips it with the reason
 * (`scripts/tabtoken.mjs` has already said so in one line), except under `CI=true`, where it fails.
 */
export function describeEngine(name: EngineName): void {
  const label = ENGINE_LABELS[name];
  const missing = engineMissing(name);
  if (missing !== null) {
    if (process.env.CI === 'true') {
      describe(label, () => {
        it('is installed (CI needs every engine)', () => {
          throw new Error(missing);
        });
      });
    } else {
      describe.skip(`${label}: ${missing}`, () => {
        it('runs the cross-engine suite', () => {});
      });
    }
    return;
  }

  let engine: Engine;
  let server: TestServer;
  let outageServer: TestServer;
  const profiles: EngineProfile[] = [];
  const newProfile = async (): Promise<EngineProfile> => {
    const profile = await engine.newProfile();
    profiles.push(profile);
    return profile;
  };
  const closeProfile = async (profile: EngineProfile): Promise<void> => {
    profiles.splice(profiles.indexOf(profile), 1);
    await profile.close();
  };

  beforeAll(async () => {
    // Without Vite's hot-reload WebSocket, which would keep every page out of Firefox's back/forward cache.
    [engine, server, outageServer] = await Promise.all([launchEngine(name), startTestServer({ ws: false }), startTestServer({ ws: false })]);
    for (const s of [server, outageServer]) await origin(s.base, '/__origin/config', { tokenLifetimeSeconds: LIFETIME_S });
    console.info(`[engines] ${name} ${engine.version}`);
  }, 120_000);

  afterAll(async () => {
    for (const profile of profiles.splice(0)) await profile.close().catch(() => {});
    await engine?.close();
    await Promise.all([server?.close(), outageServer?.close()]);
  });

  describe.concurrent(label, () => {
    describe('one origin, one test at a time', () => {
      it.sequential('shared mode: three tabs share one worker and one token, with one mint per refresh cycle', async ({ expect }) => {
        const profile = await newProfile();
        try {
          const sessionId = await signIn(profile, server.base);
          const tabs = await openTabs(profile, server.base, 3, { namespace: namespaceFor(name, 'shared') });
          for (const tab of tabs) {
            const snapshot = await snapshotOf(tab);
            expect(snapshot.mode).toBe('shared');
            expect(snapshot.sessionId).toBe(sessionId);
          }
          // Counted from a moment when every tab holds the token of the origin's latest mint (no mint
          // for half a second, so its token has reached every tab), to another such moment.
          const settle = () =>
            waitFor(
              async () => {
                const mints = (await mintLog(server.base)).filter((r) => r.sessionId === sessionId && r.status === 200);
                const latest = await Promise.all(tabs.map(peekToken));
                const quiet = Date.now() - (mints.at(-1)?.at ?? 0) > 500;
                if (quiet && mints.length > 0 && latest[0] && latest.every((t) => t === latest[0]))
                  return { mints: mints.length, latest: latest[0], log: mints };
                return null;
              },
              15_000,
              'the tabs to agree on the latest mint',
              100,
            );
          const start = await settle();
          const seen = new Set<string>([start.latest]);
          // Two refresh cycles (a 20 s token is refreshed 15 s before it expires): every tab reads until
          // it has read the tokens of two refreshes, within the 11 s two cycles and a bit take.
          const until = Date.now() + 11_000;
          const readBy = tabs.map(() => new Set<string>());
          const twoRefreshesRead = () => readBy.every((read) => [...read].filter((jwt) => jwt !== start.latest).length >= 2);
          const rounds = await repeatUntil(
            () => Date.now() < until && !twoRefreshesRead(),
            200,
            async () => {
              for (const [i, tab] of tabs.entries()) {
                const jwt = await getToken(tab);
                expect(jwt).toMatch(/^eyJ/);
                seen.add(jwt as string);
                readBy[i]!.add(jwt as string);
              }
            },
          );
          const end = await settle();
          seen.add(end.latest);
          expect(seen.size).toBeGreaterThanOrEqual(3);
          // Each mint in between became the token every tab read; on a mismatch, say when each came.
          const iats = [...seen].map((jwt) => (JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { iat: number }).iat % 100_000);
          const minted = end.mints - start.mints;
          expect(minted, `mints at ${end.log.map((r) => r.at % 100_000).join(' ')} ms; tokens seen with iat ${iats.join(' ')} s`).toBe(seen.size - 1);
          // One worker: every tab counts the same three tabs and the same mints, the origin's count.
          // (The next refresh may fall between the settled moment and these reads: then both count it.)
          const counts: number[] = [];
          for (const tab of tabs) {
            const s = await statsOf(tab);
            expect(s.tabs).toBe(3);
            counts.push(s.mints);
          }
          const after = (await mintLog(server.base)).filter((r) => r.sessionId === sessionId && r.status === 200).length;
          for (const count of counts) {
            expect(count).toBeGreaterThanOrEqual(end.mints);
            expect(count).toBeLessThanOrEqual(after);
          }
          report(name, 'shared', { tabs: 3, rounds, tokens: seen.size, mintsPerCycle: minted / (seen.size - 1) });
        } finally {
          await closeProfile(profile);
        }
      });

      it.sequential('sign-out in one tab reaches every tab', async ({ expect }) => {
        const profile = await newProfile();
        try {
          const sessionId = await signIn(profile, server.base);
          const tabs = await openTabs(profile, server.base, 3, { namespace: namespaceFor(name, 'signout') });
          const token = await getToken(tabs[0]!);
          expect(token).toMatch(/^eyJ/);
          const startedAt = Date.now();
          await tabs[2]!.evaluate(() => drillTab().manager.signOut());
          for (const tab of tabs)
            await waitInTab(tab, () => drillTab().manager.getSnapshot().status === 'signed-out', undefined, { what: 'signed-out', timeoutMs: 10_000 });
          const signedOutMs = Date.now() - startedAt;
          for (const tab of tabs) {
            expect(await getToken(tab)).toBeNull();
            expect(await getToken(tab, { skipCache: true })).toBeNull();
            expect(await peekToken(tab)).toBeNull();
            const snapshot = await snapshotOf(tab);
            expect(snapshot.sessionId).toBeNull();
            expect(JSON.stringify(snapshot)).not.toContain(token);
            expect(
              await tab.evaluate(
                (sid) => drillTab().events.some((e) => e.type === 'signout' && (e.detail as { sessionId?: string }).sessionId === sid),
                sessionId,
              ),
            ).toBe(true);
          }
          // The origin ended the session: this browser's client lists none.
          const client = await tabs[0]!.evaluate(
            async () => ((await (await fetch('/v1/client')).json()) as { response: { sessions: unknown[] } | null }).response,
          );
          expect(client?.sessions ?? []).toEqual([]);
          report(name, 'signout', { tabs: 3, signedOutMs });
        } finally {
          await closeProfile(profile);
        }
      });

      it.sequential('a reload, and a new worker after every tab closed, restore the tokens from IndexedDB with no request', async ({ expect }) => {
        const profile = await newProfile();
        // Tokens that stay fresh through the test however slow the machine: a 20 s token is due
        // for refresh after 5 s, and a new worker that finds it due mints at once (as it should).
        await origin(server.base, '/__origin/config', { tokenLifetimeSeconds: 3600 });
        try {
          await signIn(profile, server.base);
          const namespace = namespaceFor(name, 'reload');
          // The restored session is re-checked at the first poll tick: 5 s, well after the first token.
          const options = { namespace, pollIntervalMs: 5000 };
          const [tab] = await openTabs(profile, server.base, 1, options);
          const token = (await getToken(tab!)) as string;
          const templated = (await getToken(tab!, { template: 'api', expiresInSeconds: 3600 })) as string;
          await waitInTab(
            tab!,
            async ({ ns, jwts }) => {
              const open = await new Promise<IDBDatabase>((resolve, reject) => {
                const request = indexedDB.open(`tabtoken:v1:${ns}:${location.origin}`);
                request.onsuccess = () => resolve(request.result);
                request.onerror = () => reject(request.error);
              });
              const all = await new Promise<unknown[]>((resolve, reject) => {
                const read = open.transaction('tokens', 'readonly').objectStore('tokens').getAll();
                read.onsuccess = () => resolve(read.result);
                read.onerror = () => reject(read.error);
              });
              open.close();
              const text = JSON.stringify(all);
              return jwts.every((jwt) => text.includes(jwt));
            },
            { ns: namespace, jwts: [token, templated] },
            { what: 'both tokens in IndexedDB' },
          );

          // The tab reloads: whether the browser kept the worker through it or started a new one,
          // the tab has its tokens without a request.
          const before = await totalRequests(server.base);
          await reloadAppTab(tab!);
          expect(await getToken(tab!)).toBe(token);
          expect(await getToken(tab!, { template: 'api', expiresInSeconds: 3600 })).toBe(templated);
          expect(await totalRequests(server.base)).toBe(before);
          const reloadNewWorker = (await statsOf(tab!)).mints === 0;

          // Every tab closed: the browser ends the worker (its lifetime lock goes); the next tab starts
          // a new one (its mint count is 0), which restores both tokens from IndexedDB.
          const closedAt = Date.now();
          await tab!.close();
          await workerEnded(profile, server.base, keyOf(options, server.base), 20_000);
          const workerEndedMs = Date.now() - closedAt;
          const reopened = await openAppTab(profile, server.base, options);
          const { mints } = await statsOf(reopened);
          if (mints !== 0) throw new Error(`the reopened tab reached a worker that has minted ${mints} tokens`);
          expect(await getToken(reopened)).toBe(token);
          expect(await getToken(reopened, { template: 'api', expiresInSeconds: 3600 })).toBe(templated);
          expect(await totalRequests(server.base)).toBe(before);
          const snapshot = await snapshotOf(reopened);
          expect(snapshot.storage).toBe('indexeddb');
          // The session's record: its tokens by cache key, the default one among them.
          const stored = JSON.parse(await storedValues(reopened, namespace)) as { tokens?: Record<string, { jwt: string }> }[];
          expect(stored.flatMap((record) => Object.values(record.tokens ?? {}).map((t) => t.jwt))).toEqual(expect.arrayContaining([token, templated]));
          report(name, 'reload', { requests: 0, reloadKeptWorker: !reloadNewWorker, workerEndedMs });
        } finally {
          await origin(server.base, '/__origin/config', { tokenLifetimeSeconds: LIFETIME_S });
          await closeProfile(profile);
        }
      });

      it.sequential('local mode: the leader tab closes and another takes over within a poll interval', async ({ expect }) => {
        const profile = await newProfile();
        try {
          await signIn(profile, server.base);
          const namespace = namespaceFor(name, 'local');
          const tabs = await openTabs(profile, server.base, 3, { namespace }, { nosw: true });
          const [leader, next, last] = tabs as [EngineTab, EngineTab, EngineTab];
          for (const tab of tabs) expect((await snapshotOf(tab)).mode).toBe('local');
          const first = await getToken(last);
          expect(first).toMatch(/^eyJ/);
          expect(await getToken(next)).toBe(first);
          // An hour-long token (stored in IndexedDB, unlike longer ones): no refresh can change it meanwhile.
          const HOUR = { expiresInSeconds: 3600 };
          const long = await getToken(next, HOUR);
          expect(long).toMatch(/^eyJ/);
          // The followers note when a leader next says hello (the page's clock is this machine's).
          const channel = `tabtoken:v1:${namespace}:${server.base}`;
          for (const tab of [next, last]) {
            await tab.evaluate((name) => {
              const listener = new BroadcastChannel(name);
              listener.onmessage = (event: MessageEvent) => {
                if ((event.data as { type?: string }).type !== 'hello') return;
                Object.assign(globalThis, { __helloAt: Date.now() });
                listener.close();
              };
            }, channel);
          }
          const closedAt = Date.now();
          await leader.close();
          const helloAt = await waitInTab(next, () => (globalThis as { __helloAt?: number }).__helloAt, undefined, { what: 'a new leader', timeoutMs: 10_000 });
          const takeoverMs = helloAt - closedAt;
          expect(takeoverMs).toBeLessThanOrEqual(POLL_MS);
          // The new leader serves what the old one had (the same token: no mint), and mints for both tabs when asked.
          expect(await getToken(last, HOUR)).toBe(long);
          expect(await getToken(next, HOUR)).toBe(long);
          const fresh = await last.evaluate(() => drillTab().manager.getToken({ skipCache: true }));
          expect(fresh).toMatch(/^eyJ/);
          expect(fresh).not.toBe(first);
          await waitInTab(next, (jwt) => drillTab().manager.peekToken() === jwt, fresh, { what: 'the new token in the other tab' });
          expect((await statsOf(next)).tabs).toBe(2);
          report(name, 'local', { tabs: 3, takeoverMs });
        } finally {
          await closeProfile(profile);
        }
      });

      // Firefox gives a test no way to end a SharedWorker from outside, and one that ends itself with
      // close() is still matched by `new SharedWorker()` for a moment: the tabs' first reattach meets
      // the dying worker and gets no answer, and the retry a moment later starts a new one
      // (client/superviseConnection.ts). So Firefox's figure includes that wait.
      const workerDeath = it.sequential;
      workerDeath('worker death: every tab starts a new worker, keeps its token and follows the new worker', async ({ expect }) => {
        const ways: { way: string; workerUrl?: string; end: (tabs: EngineTab[], namespace: string) => Promise<number> }[] = [
          {
            way: 'close',
            workerUrl: CLOSABLE_WORKER,
            end: (tabs) =>
              tabs[0]!.evaluate(() => {
                const at = Date.now();
                new BroadcastChannel('tabtoken-test:end-worker').postMessage('end');
                return at;
              }),
          },
        ];
        const endFromOutside = engine.endSharedWorkers;
        if (endFromOutside) {
          ways.push({
            way: 'browser',
            end: async (_tabs, namespace) => {
              const at = Date.now();
              expect(await endFromOutside(namespace)).toBe(1);
              return at;
            },
          });
        }
        const figures: Record<string, number> = {};
        // Tokens that stay fresh through the replacement: Firefox's takes over 10 s (above), and a
        // 20 s token is due for refresh after 5 s, so "keeps its token" would depend on the timing.
        await origin(server.base, '/__origin/config', { tokenLifetimeSeconds: 3600 });
        try {
          for (const { way, workerUrl, end } of ways) {
            const profile = await newProfile();
            try {
              await signIn(profile, server.base);
              const namespace = namespaceFor(name, `worker-${way}`);
              const tabs = await openTabs(profile, server.base, 3, { namespace, ...(workerUrl ? { workerUrl } : {}) });
              const token = await getToken(tabs[0]!);
              expect(token).toMatch(/^eyJ/);
              // Each tab notes, on its own clock, when it has the new worker's snapshot (a new object) with its token.
              for (const tab of tabs) {
                await tab.evaluate(() => {
                  const { manager } = drillTab();
                  const before = manager.getSnapshot();
                  const jwt = before.tokens[`${before.sessionId}|||`]?.jwt;
                  manager.subscribe(() => {
                    const now = manager.getSnapshot();
                    if (now !== before && now.tokens[`${now.sessionId}|||`]?.jwt === jwt)
                      (globalThis as unknown as { __onNewWorker?: number }).__onNewWorker ??= Date.now();
                  });
                });
              }
              const endedAt = await end(tabs, namespace);
              // Each tab sees the worker's lock go, starts a new worker and adopts its snapshot.
              let replacedAt = 0;
              for (const tab of tabs) {
                const at = await waitInTab(tab, () => (globalThis as unknown as { __onNewWorker?: number }).__onNewWorker, undefined, {
                  what: `a new worker after ${way}`,
                  timeoutMs: 20_000,
                });
                replacedAt = Math.max(replacedAt, at);
              }
              // SPEC 6: every tab on a new worker, with its token, within 1 s — in every engine (Firefox
              // hands out the closing worker under the old name for seconds: the tabs move to a new one).
              figures[`${way}ReplacedMs`] = replacedAt - endedAt;
              expect(replacedAt - endedAt).toBeLessThanOrEqual(1000);
              for (const tab of tabs) expect(await getToken(tab)).toBe(token);
              expect((await statsOf(tabs[1]!)).tabs).toBe(3);
              // A tab opened later finds the worker that runs the engine (its name is in the lock it holds),
              // and no second engine starts beside it: one worker lock of the key is held.
              const later = await openAppTab(profile, server.base, { namespace, pollIntervalMs: POLL_MS, ...(workerUrl ? { workerUrl } : {}) });
              expect(await getToken(later)).toBe(token);
              expect((await statsOf(later)).tabs).toBe(4);
              const key = `tabtoken:v1:${namespace}:${server.base}`;
              const workerLocks = await later.evaluate(
                async (k) => ((await navigator.locks.query()).held ?? []).map((l) => l.name ?? '').filter((n) => n.startsWith(k) && n.includes(':worker:')),
                key,
              );
              expect(workerLocks).toHaveLength(1);
              tabs.push(later);
              const fresh = await tabs[2]!.evaluate(() => drillTab().manager.getToken({ skipCache: true }));
              expect(fresh).toMatch(/^eyJ/);
              expect(fresh).not.toBe(token);
              for (const tab of tabs) await waitInTab(tab, (jwt) => drillTab().manager.peekToken() === jwt, fresh, { what: "the new worker's token" });
            } finally {
              await closeProfile(profile);
            }
          }
        } finally {
          await origin(server.base, '/__origin/config', { tokenLifetimeSeconds: LIFETIME_S });
        }
        report(name, 'worker-death', figures);
      });

      // SPEC 6, page lifecycle. Whether the engine keeps the page in its back/forward cache is its own
      // choice (RELIABILITY.md says which does): restored, the page must read the worker's current
      // token first; not kept, it loads anew and must read a fresh token with no error. Either way the
      // worker does not count it while it is away.
      it.sequential("back/forward: a tab away for longer than a token lifetime comes back — from the cache, or loaded anew — with the worker's current token, and is not counted while away", async ({
        expect,
      }) => {
        const profile = await newProfile();
        try {
          const sessionId = await signIn(profile, server.base);
          const [stay, traveler] = (await openTabs(profile, server.base, 2, { namespace: namespaceFor(name, 'bfcache') })) as [EngineTab, EngineTab];
          const left = (await getToken(traveler)) as string;
          expect(await getToken(stay)).toBe(left);
          const loadedAt = await traveler.evaluate(() => performance.timeOrigin);
          // The staying tab reads all along: what it holds at any moment is the worker's token.
          await stay.evaluate(() => {
            const reads: { at: number; jwt?: string | null; error?: string }[] = [];
            Object.assign(globalThis, { __reads: reads });
            setInterval(() => {
              const at = Date.now();
              drillTab()
                .manager.getToken()
                .then(
                  (jwt) => reads.push({ at, jwt }),
                  (error: unknown) => reads.push({ at, error: String(error) }),
                );
            }, 200);
          });
          // Which worker runs the engine, by the lock it holds: whether it was the same one throughout.
          const workerLocks = () =>
            stay.evaluate(async () => ((await navigator.locks.query()).held ?? []).map((l) => l.name ?? '').filter((n) => n.includes(':worker:')));
          const workerBefore = await workerLocks();
          const leftAt = Date.now();
          await traveler.navigate(`${server.base}/v1/client`);
          await waitInTab(
            stay,
            () =>
              drillTab()
                .manager.stats()
                .then((s) => s.tabs === 1),
            undefined,
            { what: 'the tab away not counted', timeoutMs: 5000 },
          );
          const notCountedMs = Date.now() - leftAt;
          const exp = (jwt: string) => (JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp: number }).exp * 1000;
          // Away for longer than a token lifetime, past the expiry of the token it left with (by 1.5 s
          // each), and through a refresh by the worker meanwhile.
          const backAt = Math.max(exp(left), leftAt + LIFETIME_S * 1000) + 1500;
          await waitFor(
            async () => Date.now() >= backAt && (await refreshedSince(server.base, sessionId, leftAt)),
            backAt - Date.now() + 10_000,
            "a token lifetime away, past the left token's expiry, through a refresh",
            250,
          );
          await traveler.back();
          await waitInTab(traveler, () => 'tabtoken' in globalThis, undefined, { what: 'the page back', timeoutMs: 30_000 });
          const restored = (await traveler.evaluate(() => performance.timeOrigin)) === loadedAt;
          type Read = { jwt?: string | null; error?: string; at: number; settledAt?: number };
          let read: Read;
          if (restored) {
            read = await waitInTab(
              traveler,
              () => {
                const first = (globalThis as unknown as { tabtoken: { firstReads: Read[] } }).tabtoken.firstReads[0];
                return first?.settledAt ? first : null;
              },
              undefined,
              { what: 'the first read after pageshow', timeoutMs: 10_000 },
            );
            const life = await traveler.evaluate(
              () => (globalThis as unknown as { tabtoken: { lifecycle: { type: string; persisted: boolean | null }[] } }).tabtoken.lifecycle,
            );
            expect(life.some((e) => e.type === 'pagehide' && e.persisted)).toBe(true);
          } else {
            await whenReady(traveler);
            const at = Date.now();
            read = {
              ...(await traveler.evaluate(() =>
                drillTab()
                  .manager.getToken()
                  .then(
                    (jwt) => ({ jwt }),
                    (error: unknown) => ({ error: String(error) }),
                  ),
              )),
              at,
              settledAt: Date.now(),
            };
            expect(await traveler.evaluate(() => drillTab().events.filter((e) => e.type === 'error').length)).toBe(0);
          }
          await waitInTab(
            stay,
            () =>
              drillTab()
                .manager.stats()
                .then((s) => s.tabs === 2),
            undefined,
            { what: 'the tab counted again', timeoutMs: 5000 },
          );
          const reads = await stay.evaluate(() => (globalThis as unknown as { __reads: { at: number; jwt?: string | null; error?: string }[] }).__reads);
          expect(read.error).toBeUndefined();
          expect(read.jwt).toMatch(/^eyJ/);
          expect(read.jwt).not.toBe(left);
          expect(exp(read.jwt!)).toBeGreaterThan(read.settledAt!);
          // What the staying tab read just before, or within a moment after (a refresh may land in between).
          const around = [
            reads.filter((r) => r.at <= read.settledAt!).at(-1),
            ...reads.filter((r) => r.at > read.settledAt! && r.at <= read.settledAt! + 400),
          ].map((r) => r?.jwt);
          expect(around).toContain(read.jwt);
          expect(reads.every((r) => typeof r.jwt === 'string')).toBe(true);
          report(name, 'back-forward', {
            restored,
            notCountedMs,
            firstReadMs: read.settledAt! - read.at,
            sameWorker: JSON.stringify(await workerLocks()) === JSON.stringify(workerBefore),
          });
        } finally {
          await closeProfile(profile);
        }
      });

      it.sequential('the packaged build: the tarball installed into an app and built by vite works, two tabs on one worker', async ({ expect }) => {
        const app = packagedApp();
        const preview = await previewPackagedApp(app);
        const profile = await newProfile();
        try {
          const sessionId = await signIn(profile, preview.base);
          type AppTokens = {
            ready: Promise<void>;
            getToken(): Promise<string | null>;
            stats(): Promise<{ tabs: number; mints: number }>;
            getSnapshot(): { mode: string };
          };
          const read = async (tab: EngineTab) => {
            await waitInTab(tab, () => 'app' in globalThis, undefined, { what: 'the app to start', timeoutMs: 30_000 });
            return tab.evaluate(async () => {
              const { tokens } = (globalThis as unknown as { app: { tokens: AppTokens } }).app;
              await tokens.ready;
              return { jwt: await tokens.getToken(), stats: await tokens.stats(), mode: tokens.getSnapshot().mode };
            });
          };
          const a = await read(await profile.openTab(preview.base));
          const b = await read(await profile.openTab(preview.base));
          expect(a.mode).toBe('shared');
          expect(a.jwt).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
          expect(b.jwt).toBe(a.jwt);
          expect(b.stats.tabs).toBe(2);
          expect(await mintsOf(preview.base, sessionId)).toBe(1);
          report(name, 'packaged', { tabs: 2, mints: 1 });
        } finally {
          await closeProfile(profile);
          preview.close();
        }
      });
    });

    describe('origin outage, on a server of its own', () => {
      it('degraded in every tab, the token served until its real expiry, then back to ok', { timeout: 150_000 }, async ({ expect }) => {
        const base = outageServer.base;
        const profile = await newProfile();
        try {
          const sessionId = await signIn(profile, base);
          const tabs = await openTabs(profile, base, 3, { namespace: namespaceFor(name, 'outage') });
          const token = (await getToken(tabs[0]!)) as string;
          const { expiresAt } = (await snapshotOf(tabs[0]!)).tokens[`${sessionId}|||`]!;
          await origin(base, '/__origin/outage', { mode: 'down' });
          const downAt = Date.now();
          // The refresh due 15 s before expiry fails: every tab says degraded.
          for (const tab of tabs)
            await waitInTab(tab, () => drillTab().manager.getSnapshot().status === 'degraded', undefined, { what: 'degraded', timeoutMs: 15_000 });
          const degradedMs = Date.now() - downAt;
          // Every read is served the cached token until its real expiry, past the hard cutoff (one
          // poll interval before it) that applies while the origin answers.
          let pastCutoff = 0;
          let reads = 0;
          await repeatUntil(expiresAt - 250, 150, async () => {
            for (const tab of tabs) {
              const [jwt, peeked, at] = await tab.evaluate(
                async () => [await drillTab().manager.getToken(), drillTab().manager.peekToken(), Date.now()] as const,
              );
              if (at >= expiresAt) continue;
              reads++;
              expect(jwt).toBe(token);
              expect(peeked).toBe(token);
              if (at > expiresAt - POLL_MS) pastCutoff++;
            }
          });
          expect(pastCutoff).toBeGreaterThan(0);
          // Past its expiry: nothing to serve; a read waits for the origin, then rejects (never null).
          await sleep(Math.max(0, expiresAt - Date.now()) + 100); // time is the condition: nothing but the clock marks the token's expiry
          for (const tab of tabs) {
            expect(await peekToken(tab)).toBeNull();
            await tab.evaluate(() => {
              const outcome = drillTab()
                .manager.getToken()
                .then(
                  (jwt) => `resolved ${String(jwt)}`,
                  (error: unknown) => String((error as { code?: string }).code),
                );
              Object.assign(globalThis, { __expired: outcome.then((value) => Object.assign(globalThis, { __expiredOutcome: value })) });
            });
          }
          for (const tab of tabs) {
            const outcome = await waitInTab(tab, () => (globalThis as { __expiredOutcome?: string }).__expiredOutcome, undefined, {
              what: 'the read past expiry to settle',
              timeoutMs: 15_000,
            });
            expect(outcome).toBe('origin_unavailable');
          }
          // The origin comes back: the parked refresh goes at the end of its backoff (at most 30 s, plus
          // jitter and a poll; a loaded 2-core machine has taken over 40 s here).
          await origin(base, '/__origin/outage', { mode: 'off' });
          const upAt = Date.now();
          for (const tab of tabs)
            await waitInTab(tab, () => drillTab().manager.getSnapshot().status === 'ok', undefined, { what: 'ok again', timeoutMs: 60_000, everyMs: 200 });
          const recoveredMs = Date.now() - upAt;
          const fresh = await getToken(tabs[0]!);
          expect(fresh).toMatch(/^eyJ/);
          expect(fresh).not.toBe(token);
          for (const tab of tabs) {
            expect(await getToken(tab)).toBe(fresh);
            expect(await tab.evaluate(() => drillTab().events.some((e) => e.type === 'signout'))).toBe(false);
          }
          report(name, 'outage', { tabs: 3, degradedMs, reads, readsPastCutoff: pastCutoff, recoveredMs });
        } finally {
          await closeProfile(profile);
          await origin(base, '/__origin/outage', { mode: 'off' });
        }
      });
    });
  });
}
