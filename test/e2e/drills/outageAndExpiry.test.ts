/**
 * The two drills that must wait for real time, run side by side on two servers of their own (so
 * the outage mode of one never reaches the other) to keep `npm test` short:
 *
 * Drill 2 — the origin's outage mode (`missing_expired_token`, seed 003) for two token lifetimes
 * and more. The origin mints only from the last token the browser holds. Four real tabs read
 * continuously through it: no getToken call may fail, and every token minted during the outage
 * must have been minted from an `expired_token` (the origin's mint log says so) and keep the
 * original `oiat`. Halfway, every tab is closed (the worker dies) and the browser stays away until
 * its stored token has expired; the tabs reopened on a new worker must re-mint from the
 * lastActiveToken kept in IndexedDB, with no failed call either.
 *
 * Drill 10 — test session tokens (seed 001) as a test suite uses them: created with the secret key,
 * opened in a real browser to sign it in. A token is single use, a revoked one is refused, a
 * `redirect_url` off the origin is refused, and a session made by one ends at its max duration —
 * 60 s, the smallest the API allows, waited out for real while drill 2 runs — when every tab signs out.
 */
import { decodeProtectedHeader } from 'jose';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { repeatUntil } from '../../support/wait.ts';
import { keyOf, workerEnded } from '../support/workerState.ts';
import {
  backend,
  mintLog,
  newContext,
  openTab,
  origin,
  signIn,
  startHarness,
  startReadLoop,
  stats,
  stopReadLoop,
  tabUrl,
  waitFor,
  type Harness,
  type ReadOutcome,
} from './support.ts';

let drill2: Harness;
let drill10: Harness;
beforeAll(async () => {
  [drill2, drill10] = await Promise.all([startHarness(), startHarness()]);
});
afterAll(async () => {
  await Promise.all([drill2?.close(), drill10?.close()]);
});

const LIFETIME_S = 20;

/**
 * How many tokens other than `known` the page's read loop (`startReadLoop`) has read so far: the
 * tokens of the refreshes it has read through.
 */
function newTokensRead(page: Page, known: string): Promise<number> {
  return page.evaluate((old) => {
    const reads = (globalThis as unknown as { __reads?: ReadOutcome[] }).__reads ?? [];
    return new Set(reads.map((r) => r.jwt).filter((jwt) => typeof jwt === 'string' && jwt !== old)).size;
  }, known);
}

/** Whether every page's read loop has read at least `count` tokens other than `known`. */
async function everyTabReadRefreshes(pages: Page[], known: string, count: number): Promise<boolean> {
  for (const page of pages) if ((await newTokensRead(page, known)) < count) return false;
  return true;
}

interface TestSessionToken {
  id: string;
  url: string;
  status: string;
}

interface ClientView {
  response: { sessions: { id: string; status: string; expire_at: number }[]; last_active_session_id: string | null } | null;
}

describe.concurrent('drills that wait for real time', () => {
  describe('drill 2: outage with missing_expired_token', () => {
    it('through two token lifetimes of outage and a restart with an expired stored token, no read fails and every mint carries expired_token', {
      timeout: 150_000,
    }, async ({ expect }) => {
      const context = await newContext(drill2.browser);
      try {
        await origin(drill2.base, '/__origin/config', { tokenLifetimeSeconds: LIFETIME_S });
        const sessionId = await signIn(context, drill2.base);
        const options = { namespace: 'met-outage', pollIntervalMs: 1000 };
        let pages = await Promise.all(Array.from({ length: 4 }, () => openTab(context, drill2.base, options)));
        const original = (await pages[0]!.evaluate(() => drillTab().manager.getToken())) as string;
        const oiat = decodeProtectedHeader(original).oiat;
        expect(typeof oiat).toBe('number');

        await origin(drill2.base, '/__origin/outage', { mode: 'missing_expired_token' });
        const outageAt = Date.now();
        const reads: ReadOutcome[] = [];

        // Phase 1: two refresh cycles with every tab reading, until every tab has read the tokens
        // of both refreshes (a refresh comes every few seconds: 15 s of leeway on 20 s tokens).
        await Promise.all(pages.map((p) => startReadLoop(p)));
        await waitFor(() => everyTabReadRefreshes(pages, original, 2), 30_000, 'every tab to read through two refreshes', 250);
        for (const page of pages) reads.push(...(await stopReadLoop(page)));
        const phase1Mints = (await mintLog(drill2.base)).filter((r) => r.status === 200 && r.at >= outageAt).length;

        // Phase 2: every tab closed until the stored token has expired; then reopened on a new worker.
        const stored = await pages[0]!.evaluate(() => Object.values(drillTab().manager.getSnapshot().tokens)[0]!.expiresAt);
        await Promise.all(pages.map((p) => p.close()));
        await workerEnded(context, drill2.base, keyOf(options, drill2.base), 15_000);
        await waitFor(() => Date.now() > stored + 500, LIFETIME_S * 1000 + 5000, 'the stored token to expire', 100);
        const reopenedAt = Date.now();
        // Its worker has ended, so this tab starts a new one, and is its only tab.
        const first = await openTab(context, drill2.base, options);
        const { tabs } = await first.evaluate(() => drillTab().manager.stats());
        if (tabs !== 1) throw new Error(`the reopened tab reached a worker with ${tabs} tabs`);
        const firstJwt = (await first.evaluate(() => drillTab().manager.getToken())) as string;
        const firstTokenMs = Date.now() - reopenedAt;
        expect(firstJwt).toMatch(/^eyJ/);
        pages = [first, ...(await Promise.all(Array.from({ length: 3 }, () => openTab(context, drill2.base, options))))];
        // Two refresh cycles again on the new worker, and the outage through two token lifetimes.
        await Promise.all(pages.map((p) => startReadLoop(p)));
        await waitFor(
          async () => Date.now() - outageAt >= 2 * LIFETIME_S * 1000 && (await everyTabReadRefreshes(pages, firstJwt, 2)),
          30_000,
          'every tab to read through two refreshes, two token lifetimes into the outage',
          250,
        );
        for (const page of pages) reads.push(...(await stopReadLoop(page)));
        const outageMs = Date.now() - outageAt;
        await origin(drill2.base, '/__origin/outage', { mode: 'off' });

        // No read failed or came back null, before or after the restart.
        const failed = reads.filter((r) => typeof r.jwt !== 'string');
        expect(failed).toEqual([]);
        expect(reads.length).toBeGreaterThan(1000);
        // Every token minted during the outage came from an expired_token; every refused request lacked one.
        const log = (await mintLog(drill2.base)).filter((r) => r.sessionId === sessionId && r.at >= outageAt);
        const minted = log.filter((r) => r.status === 200);
        expect(minted.length).toBeGreaterThanOrEqual(4);
        expect(minted.every((r) => r.expiredToken)).toBe(true);
        expect(log.filter((r) => r.status === 422).every((r) => !r.expiredToken)).toBe(true);
        // Some of them by the new worker, which had only IndexedDB's lastActiveToken to go on.
        expect(minted.filter((r) => r.at >= reopenedAt).length).toBeGreaterThanOrEqual(2);
        // Each token any tab saw keeps the original iat of the session's first token.
        const seen = new Set(reads.map((r) => r.jwt as string));
        for (const jwt of seen) expect(decodeProtectedHeader(jwt).oiat).toBe(oiat);
        expect(seen.size).toBeGreaterThanOrEqual(3);
        console.info(
          '[drill 2]',
          JSON.stringify({
            outageMs,
            lifetimes: +(outageMs / 1000 / LIFETIME_S).toFixed(1),
            reads: reads.length,
            failed: failed.length,
            tokens: seen.size,
            mintsWithExpiredToken: minted.length,
            phase1Mints,
            refused422: log.filter((r) => r.status === 422).length,
            firstTokenAfterRestartMs: firstTokenMs,
          }),
        );
      } finally {
        await context.close();
        await origin(drill2.base, '/__origin/reset', {});
      }
    });
  });

  describe('drill 10: test session tokens', () => {
    it('a redirect_url off the origin is refused, whatever its spelling', async ({ expect }) => {
      for (const redirect_url of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'http://127.0.0.1:1/', 'javascript:alert(1)']) {
        const res = await backend<{ errors: { code: string }[] }>(drill10.base, '/v1/test_session_tokens', { user_id: 'user_drill10', redirect_url });
        expect(res.status, redirect_url).toBe(422);
        expect(res.body.errors[0]?.code, redirect_url).toBe('form_param_invalid');
      }
      const noKey = await fetch(`${drill10.base}/v1/test_session_tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"user_id":"user_drill10"}',
      });
      expect(noKey.status).toBe(401);
    });

    it('a token signs a browser in once; used or revoked it is refused; its session ends at its max duration and every tab signs out', {
      timeout: 150_000,
    }, async ({ expect }) => {
      await origin(drill10.base, '/__origin/config', { tokenLifetimeSeconds: 20 });
      const context = await newContext(drill10.browser);
      try {
        const options = { namespace: 'tst', pollIntervalMs: 1000 };
        const landing = tabUrl(drill10.base, options).slice(drill10.base.length);
        const created = await backend<TestSessionToken>(drill10.base, '/v1/test_session_tokens', {
          user_id: 'user_drill10',
          session_max_duration_in_seconds: 60,
          redirect_url: landing,
        });
        expect(created.status).toBe(200);
        expect(created.body.status).toBe('pending');

        // Opening the link signs the browser in and lands on a tab of the app.
        const first = await context.newPage();
        const accepted = await first.goto(created.body.url);
        expect(accepted?.url()).toBe(`${drill10.base}${landing}`);
        await first.waitForFunction(() => 'tabtoken' in globalThis);
        await first.evaluate(() => drillTab().manager.ready);
        const client = (await (await context.request.get(`${drill10.base}/v1/client`)).json()) as ClientView;
        const session = client.response!.sessions[0]!;
        expect(client.response!.sessions).toHaveLength(1);
        const sessionId = session.id;
        const pages: Page[] = [first, await openTab(context, drill10.base, options), await openTab(context, drill10.base, options)];
        for (const page of pages) expect(await page.evaluate(() => drillTab().manager.getSnapshot().sessionId)).toBe(sessionId);
        expect((await backend<TestSessionToken>(drill10.base, `/v1/test_session_tokens/${created.body.id}`)).body.status).toBe('accepted');

        // Single use: the same link again is refused with an HTML page, and signs nobody in.
        const again = await (await context.newPage()).goto(created.body.url);
        expect(again?.status()).toBe(410);
        expect(await again?.text()).toContain('test_session_token_used');

        // A revoked token is refused too.
        const other = await backend<TestSessionToken>(drill10.base, '/v1/test_session_tokens', { user_id: 'user_drill10b' });
        expect((await backend<TestSessionToken>(drill10.base, `/v1/test_session_tokens/${other.body.id}/revoke`, {})).body.status).toBe('revoked');
        const revoked = await (await context.newPage()).goto(other.body.url);
        expect(revoked?.status()).toBe(410);
        expect(await revoked?.text()).toContain('test_session_token_revoked');
        const listed = (await (await context.request.get(`${drill10.base}/v1/client`)).json()) as ClientView;
        expect(listed.response!.sessions.map((s) => s.id)).toEqual([sessionId]);

        // Until its max duration the session's tokens flow in every tab; then every tab signs out.
        expect(session.expire_at - Date.now()).toBeGreaterThan(40_000);
        expect(session.expire_at - Date.now()).toBeLessThanOrEqual(60_000);
        const tokens = new Set<string>();
        await repeatUntil(session.expire_at - 500, 500, async () => {
          for (const page of pages) {
            const jwt = await page.evaluate(() => drillTab().manager.getToken());
            expect(jwt).toMatch(/^eyJ/);
            tokens.add(jwt as string);
          }
        });
        for (const page of pages) {
          await page.waitForFunction(() => drillTab().manager.getSnapshot().status === 'signed-out', undefined, { timeout: 20_000 });
        }
        const signedOutAfterMs = Date.now() - session.expire_at;
        // The end is noticed at the first poll tick after expire_at (GET /v1/client no longer lists the
        // session), or by a refresh the origin refuses, whichever comes first; nothing was minted after it.
        const mints = (await mintLog(drill10.base)).filter((r) => r.sessionId === sessionId);
        expect(mints.filter((r) => r.status === 200 && r.at >= session.expire_at)).toEqual([]);
        for (const page of pages) {
          expect(await page.evaluate(() => drillTab().manager.getToken())).toBeNull();
          expect(await page.evaluate(() => drillTab().manager.peekToken())).toBeNull();
          const held = JSON.stringify(await page.evaluate(() => drillTab().manager.getSnapshot()));
          for (const jwt of tokens) expect(held).not.toContain(jwt);
          expect(
            await page.evaluate(
              (sid) => drillTab().events.some((e) => e.type === 'signout' && (e.detail as { sessionId: string }).sessionId === sid),
              sessionId,
            ),
          ).toBe(true);
        }
        // It stays signed out: the client lists no session, and the tabs keep asking without picking
        // one up — two more looks at the client (one a poll interval).
        const asked = (await stats(drill10.base)).requests.client ?? 0;
        await waitFor(
          async () => ((await stats(drill10.base)).requests.client ?? 0) >= asked + 2,
          10_000,
          'the tabs to ask the origin for the client twice more',
          100,
        );
        for (const page of pages) expect(await page.evaluate(() => drillTab().manager.getSnapshot().status)).toBe('signed-out');
        const after = (await (await context.request.get(`${drill10.base}/v1/client`)).json()) as ClientView;
        expect(after.response!.sessions).toEqual([]);
        expect(signedOutAfterMs).toBeLessThan(10_000);
        console.info('[drill 10]', JSON.stringify({ tokens: tokens.size, signedOutAfterMaxDurationMs: signedOutAfterMs }));
      } finally {
        await context.close();
        await origin(drill10.base, '/__origin/reset', {});
      }
    });
  });
});
