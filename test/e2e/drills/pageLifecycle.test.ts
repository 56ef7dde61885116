/**
 * Page lifecycle (SPEC 6) in Chromium with its back/forward cache on, as a user has it (playwright
 * launches Chromium with the cache off; the harness passes `ignoreDefaultArgs`). A signed-in tab goes
 * to another page for longer than a token's lifetime while another tab stays and its worker (or the
 * new leader) refreshes the token, then comes back:
 *
 * - it is restored from the cache (`pageshow.persisted`, and no `Page.backForwardCacheNotUsed`), even
 *   with a reply of the worker still due when it left and garbage collections while it was stored
 *   (comlink's FinalizationRegistry would run its cleanup in the stored page);
 * - while stored it is not counted (`stats().tabs` in the other tab), within 1 s of leaving; back,
 *   it is counted again within 1 s;
 * - its first `getToken()`, called from the page's first `pageshow` listener, resolves a token that
 *   has not expired and equals the one the staying tab held at that moment: not the token it left
 *   with, which expired while it was stored.
 *
 * In local mode the tab that leaves is the leader: another tab takes over while it is stored, with
 * no failed read in the tabs that stay, and the restored tab is a follower.
 */
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import { drillTest } from './fixtures.ts';
import { leaderLockName } from '../../../protocol/names.ts';
import { keyOf } from '../support/workerState.ts';
import { openTab, origin, refreshedSince, repeatUntil, signIn, startReadLoop, stopReadLoop, waitFor, type ReadOutcome, type TabOptions } from './support.ts';

const it = drillTest({ backForwardCache: true, ws: false });

const LIFETIME_S = 20;
const POLL_MS = 1000;

interface Life {
  type: string;
  persisted: boolean | null;
  at: number;
}
interface FirstRead {
  jwt?: string | null;
  error?: string;
  at: number;
  settledAt: number;
}
type Globals = { __life: Life[]; __firstRead?: Promise<FirstRead>; __inflight?: Promise<{ jwt?: string | null; error?: string }> };

/**
 * Before any script of each page: its lifecycle events with their times, and — the page's first
 * `pageshow` listener — a `getToken()` made the moment the page is shown from the cache.
 */
async function recordLifecycle(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const g = globalThis as unknown as Globals;
    g.__life = [];
    for (const type of ['pagehide', 'pageshow', 'freeze', 'resume']) {
      // Capturing: `freeze` and `resume` are fired at the document and do not bubble.
      addEventListener(
        type,
        (event) => {
          const persisted = (event as PageTransitionEvent).persisted ?? null;
          g.__life.push({ type, persisted, at: Date.now() });
          if (type === 'pageshow' && persisted) {
            const at = Date.now();
            g.__firstRead = drillTab()
              .manager.getToken()
              .then(
                (jwt) => ({ jwt, at, settledAt: Date.now() }),
                (error: unknown) => ({ error: String(error), at, settledAt: Date.now() }),
              );
          }
        },
        true,
      );
    }
  });
}

/** The reasons Chromium gives for a navigation that did not use the cache. */
async function notRestoredReasons(page: Page): Promise<{ cdp: CDPSession; reasons: string[] }> {
  const cdp = await page.context().newCDPSession(page);
  const reasons: string[] = [];
  cdp.on('Page.backForwardCacheNotUsed', (event) => {
    for (const e of event.notRestoredExplanations) reasons.push(e.reason);
  });
  await cdp.send('Page.enable');
  return { cdp, reasons };
}

const payload = (jwt: string) => JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp: number; iat: number };

/** What a tab read around `at` (its read loop): its last read before, and those within `slackMs` after (a refresh may land in between). */
function readAround(reads: ReadOutcome[], at: number, slackMs = 400): (string | null | undefined)[] {
  const before = reads.filter((r) => r.at <= at).at(-1);
  return [before, ...reads.filter((r) => r.at > at && r.at <= at + slackMs)].map((r) => r?.jwt);
}

/** Waits until `page` counts `tabs` tabs; answers the page's clock at that moment. */
async function countedAt(page: Page, tabs: number, timeoutMs: number): Promise<number> {
  return waitFor(
    () => page.evaluate(async (n) => ((await drillTab().manager.stats()).tabs === n ? Date.now() : null), tabs),
    timeoutMs,
    `${tabs} tabs counted`,
    20,
  );
}

describe('page lifecycle: the back/forward cache in Chromium', () => {
  it("shared mode: a tab away for longer than a token lifetime is restored from the cache, not counted while stored, and reads the worker's current token first", async ({
    h,
    context,
  }) => {
    await origin(h.base, '/__origin/config', { tokenLifetimeSeconds: LIFETIME_S });
    await recordLifecycle(context);
    const sessionId = await signIn(context, h.base);
    const options: TabOptions = { namespace: 'bfcache-shared', pollIntervalMs: POLL_MS };
    const stay = await openTab(context, h.base, options);
    const traveler = await openTab(context, h.base, options);
    const { cdp, reasons } = await notRestoredReasons(traveler);
    const left = (await traveler.evaluate(() => drillTab().manager.getToken())) as string;
    expect(await stay.evaluate(() => drillTab().manager.getToken())).toBe(left);
    await countedAt(stay, 2, 5000);
    await startReadLoop(stay, 200);

    // A reply of the worker still due when the page leaves: a mint held 1.5 s at the origin.
    await origin(h.base, '/__origin/faults', { latencyMs: 1500 });
    await traveler.evaluate(() => {
      const g = globalThis as unknown as Globals;
      g.__inflight = drillTab()
        .manager.getToken({ template: 'api', skipCache: true })
        .then(
          (jwt) => ({ jwt }),
          (error: unknown) => ({ error: String(error) }),
        );
    });
    const leftAt = Date.now();
    await traveler.goto(`${h.base}/__origin/stats`);
    const until = Math.max(payload(left).exp * 1000, Date.now() + LIFETIME_S * 1000) + 1500;
    await origin(h.base, '/__origin/faults', {});
    const notCountedAt = await countedAt(stay, 1, 5000);

    // Stored for longer than a token lifetime and past the expiry of the token it left with, through
    // a refresh by the worker; garbage collected every 2 s meanwhile.
    await repeatUntil(
      async () => Date.now() < until || !(await refreshedSince(h.base, sessionId, leftAt)),
      2000,
      () => cdp.send('HeapProfiler.collectGarbage').catch(() => {}),
    );
    await traveler.goBack({ waitUntil: 'commit' });
    const first = await waitFor(() => traveler.evaluate(() => (globalThis as unknown as Globals).__firstRead ?? null), 10_000, 'the first read after pageshow');
    const countedAgainAt = await countedAt(stay, 2, 5000);
    const reads = await stopReadLoop(stay);
    const life = await traveler.evaluate(() => (globalThis as unknown as Globals).__life);
    const inflight = await traveler.evaluate(() => (globalThis as unknown as Globals).__inflight);

    expect(reasons).toEqual([]);
    const hide = life.find((e) => e.type === 'pagehide')!;
    const show = life.find((e) => e.type === 'pageshow' && e.persisted)!;
    expect(hide.persisted).toBe(true);
    expect(show).toBeDefined();
    // Not counted while stored, within 1 s of leaving; counted again within 1 s of coming back.
    expect(notCountedAt - hide.at).toBeLessThanOrEqual(1000);
    expect(countedAgainAt - show.at).toBeLessThanOrEqual(1000);
    // The first read: not the token it left with (expired while stored), not expired, the staying tab's.
    expect(first.error).toBeUndefined();
    expect(first.jwt).toMatch(/^eyJ/);
    expect(first.jwt).not.toBe(left);
    expect(payload(first.jwt!).exp * 1000).toBeGreaterThan(first.settledAt);
    expect(readAround(reads, first.settledAt)).toContain(first.jwt);
    // The call cut off when the page left was asked again once it was back.
    expect(inflight?.error).toBeUndefined();
    expect(inflight?.jwt).toMatch(/^eyJ/);
    expect(reads.every((r) => typeof r.jwt === 'string')).toBe(true);
    console.info(
      '[lifecycle] chromium shared',
      JSON.stringify({
        awayMs: show.at - hide.at,
        notCountedMs: notCountedAt - hide.at,
        countedAgainMs: countedAgainAt - show.at,
        firstReadMs: first.settledAt - first.at,
        staysReads: reads.length,
      }),
    );
  });

  it('local mode: the leader that goes into the cache hands over with no failed read in the other tabs, and comes back a follower', async ({ h, context }) => {
    await origin(h.base, '/__origin/config', { tokenLifetimeSeconds: LIFETIME_S });
    await recordLifecycle(context);
    const sessionId = await signIn(context, h.base);
    const options: TabOptions = { namespace: 'bfcache-local', pollIntervalMs: POLL_MS };
    // The first tab leads.
    const leader = await openTab(context, h.base, options, { nosw: true });
    const others = [await openTab(context, h.base, options, { nosw: true }), await openTab(context, h.base, options, { nosw: true })];
    const { reasons } = await notRestoredReasons(leader);
    const left = (await leader.evaluate(() => drillTab().manager.getToken())) as string;
    for (const page of others) expect(await page.evaluate(() => drillTab().manager.getToken())).toBe(left);
    // Leaders announce themselves on the channel: each staying tab notes every hello it hears.
    const channel = `tabtoken:v1:bfcache-local:${h.base}`;
    for (const page of others) {
      await page.evaluate((name) => {
        const hellos: { instance: string; at: number }[] = [];
        Object.assign(globalThis, { __hellos: hellos });
        new BroadcastChannel(name).onmessage = ({ data }: MessageEvent) => {
          if ((data as { type?: string }).type === 'hello') hellos.push({ instance: (data as { instance: string }).instance, at: Date.now() });
        };
      }, channel);
      await startReadLoop(page, 100);
    }
    await countedAt(others[0]!, 3, 5000);

    const leftAt = Date.now();
    await leader.goto(`${h.base}/__origin/stats`);
    const until = Math.max(payload(left).exp * 1000, Date.now() + LIFETIME_S * 1000) + 1500;
    const hellosOf = (page: Page) => page.evaluate(() => (globalThis as unknown as { __hellos: { instance: string; at: number }[] }).__hellos);
    const takeover = await waitFor(async () => (await hellosOf(others[0]!))[0], 5000, 'a new leader');
    const notCountedAt = await countedAt(others[0]!, 2, 5000);
    // Stored for longer than a token lifetime and past the expiry of the token it left with, through
    // a refresh by the new leader.
    await waitFor(
      async () => Date.now() >= until && (await refreshedSince(h.base, sessionId, leftAt)),
      until - Date.now() + 10_000,
      "a token lifetime away, past the left token's expiry, through a refresh",
      250,
    );

    await leader.goBack({ waitUntil: 'commit' });
    const first = await waitFor(() => leader.evaluate(() => (globalThis as unknown as Globals).__firstRead ?? null), 10_000, 'the first read after pageshow');
    const countedAgainAt = await countedAt(others[0]!, 3, 5000);
    // A restored tab that took the lead would say hello: it waits for the leader lock instead, which
    // another tab holds, so it cannot lead while that one does. (Its own requests are told apart by
    // the client id of a lock it holds a moment for the asking.)
    const leaderLock = leaderLockName(keyOf(options, h.base));
    await waitFor(
      () =>
        leader.evaluate(
          (name) =>
            navigator.locks.request(`${name}:test-whoami`, async () => {
              const { held = [], pending = [] } = await navigator.locks.query();
              const self = held.find((l) => l.name === `${name}:test-whoami`)?.clientId;
              return pending.some((l) => l.name === name && l.clientId === self) && held.some((l) => l.name === name && l.clientId !== self);
            }),
          leaderLock,
        ),
      5000,
      'the restored tab to wait for the leader lock the new leader holds',
    );
    const reads = await Promise.all(others.map(stopReadLoop));
    const life = await leader.evaluate(() => (globalThis as unknown as Globals).__life);

    expect(reasons).toEqual([]);
    const hide = life.find((e) => e.type === 'pagehide')!;
    const show = life.find((e) => e.type === 'pageshow' && e.persisted)!;
    expect(hide.persisted).toBe(true);
    expect(show).toBeDefined();
    // Another tab took over within a poll interval, and the stored leader was not counted.
    expect(takeover.at - hide.at).toBeLessThanOrEqual(POLL_MS);
    expect(notCountedAt - hide.at).toBeLessThanOrEqual(1000);
    expect(countedAgainAt - show.at).toBeLessThanOrEqual(1000);
    // No failed read in the tabs that stayed, through the hand-over and the refreshes.
    for (const list of reads) {
      expect(list.length).toBeGreaterThan(50);
      expect(list.filter((r) => typeof r.jwt !== 'string')).toEqual([]);
    }
    // Back, a follower: the new leader is the only one that said hello.
    expect(new Set((await hellosOf(others[1]!)).map((x) => x.instance))).toEqual(new Set([takeover.instance]));
    expect(first.error).toBeUndefined();
    expect(first.jwt).toMatch(/^eyJ/);
    expect(first.jwt).not.toBe(left);
    expect(payload(first.jwt!).exp * 1000).toBeGreaterThan(first.settledAt);
    expect(readAround(reads[0]!, first.settledAt)).toContain(first.jwt);
    console.info(
      '[lifecycle] chromium local',
      JSON.stringify({
        awayMs: show.at - hide.at,
        takeoverMs: takeover.at - hide.at,
        notCountedMs: notCountedAt - hide.at,
        countedAgainMs: countedAgainAt - show.at,
        firstReadMs: first.settledAt - first.at,
        reads: reads.map((r) => r.length),
      }),
    );
  });
});
