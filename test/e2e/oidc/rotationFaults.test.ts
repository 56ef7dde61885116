/**
 * Rotation under faults, against the real provider (oidc-provider, rotation on, DPoP off) and its
 * fault layer, in real tabs: a rotated refresh token is never lost, so the provider never sees one
 * presented twice — a JWKS that is down when a refreshed ID token arrives, a token answer held on its
 * way back past the callers' 10 s, and two redemptions of one redirect URL at once.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeDevLogin, type CodeEvent, type RefreshEvent } from '../../../dev/oidc/index.ts';
import { repeatUntil, waitFor } from '../../support/wait.ts';
import { snapshot } from '../drills/support.ts';
import { grantOf, oidcContext, openOidcTab, signInThrough, startOidcHarness, type OidcHarness } from './support.ts';

let h: OidcHarness;
beforeAll(async () => {
  // 60 s access tokens: long enough that a token stays usable through a 15 s hold.
  h = await startOidcHarness({ accessTokenTtlSeconds: 60 });
});
afterAll(async () => {
  await h?.close();
});

/** Resolves once the browser runs no SharedWorker (every tab of the earlier tests closed too). */
async function noSharedWorker(): Promise<void> {
  const cdp = await h.browser.newBrowserCDPSession();
  try {
    await waitFor(
      async () => {
        const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: { type: string }[] };
        return !targetInfos.some((t) => t.type === 'shared_worker');
      },
      10_000,
      'the SharedWorker to end after its last tab closed',
      100,
    );
  } finally {
    await cdp.detach();
  }
}

/** A read in the page: the token, or the error's code. */
const read = (page: Page, leewayInSeconds = 15) =>
  page.evaluate(
    (leeway) =>
      drillTab()
        .manager.getToken({ leewayInSeconds: leeway })
        .then(
          (t) => ({ t }),
          (e: { code: string }) => ({ e: e.code }),
        ),
    leewayInSeconds,
  );

describe('OpenID Connect: rotation under faults', () => {
  it('the JWKS unreachable at the first refresh after a worker restart, while the provider sends a refreshed ID token: no sign-out, the next refresh succeeds, the provider sees no reuse', {
    timeout: 90_000,
  }, async () => {
    const options = h.options('oidc-jwks-down');
    const context = await oidcContext(h, options);
    const first = await openOidcTab(context, h, options);
    await signInThrough(first, h);
    const grantId = await grantOf(first, h);
    const signedIn = await snapshot(first);
    await first.close();
    await noSharedWorker();

    const jwks = h.op.endpointPath('jwks');
    const restore = h.op.faults.unreachable(jwks);
    let page: Page;
    try {
      // A new worker: the grant and a fresh token from IndexedDB, no JWKS in memory.
      page = await openOidcTab(context, h, options);
      expect(await snapshot(page)).toMatchObject({ status: 'ok', sessionId: signedIn.sessionId });
      const refreshed = await page.evaluate(() =>
        drillTab()
          .manager.getToken({ skipCache: true })
          .then(
            (t) => ({ t }),
            (e: { code: string; message: string }) => ({ e: `${e.code}: ${e.message}` }),
          ),
      );
      const refresh = h.op.events.grant(grantId)!.refreshes.at(-1);
      expect(refreshed).toEqual({ t: refresh?.accessToken });
      // The provider did send a new ID token, and the worker did try the JWKS for it.
      expect(h.op.faults.hits(jwks)).toBeGreaterThanOrEqual(1);
      expect(await snapshot(page)).toMatchObject({ status: 'ok', userId: 'alice', claims: { sub: 'alice' } });
    } finally {
      restore();
    }
    const next = await page.evaluate(() => drillTab().manager.getToken({ skipCache: true }));
    expect(next).toBeTypeOf('string');
    const grant = h.op.events.grant(grantId)!;
    expect(grant.refreshes.length).toBe(2);
    expect(next).toBe(grant.refreshes.at(-1)?.accessToken);
    expect(grant.everyRefreshUsedNewest).toBe(true);
    expect(grant.invalidGrants).toBe(0);
    expect(grant.revoked).toBeNull();
    expect(await snapshot(page)).toMatchObject({ status: 'ok', sessionId: signedIn.sessionId, userId: 'alice' });
    await context.close();
  });

  it('a token answer held 15 s on its way back: every caller is served the cached token meanwhile, the late answer is used, the provider sees no reuse', {
    timeout: 120_000,
  }, async () => {
    const options = h.options('oidc-held');
    const context = await oidcContext(h, options);
    const first = await openOidcTab(context, h, options);
    await signInThrough(first, h);
    const second = await openOidcTab(context, h, options);
    const grantId = await grantOf(first, h);
    const cached = (await first.evaluate(() => drillTab().manager.getToken()))!;
    const entry = Object.values((await snapshot(first)).tokens)[0]!;
    const refreshesBefore = h.op.events.grant(grantId)!.refreshes.length;

    h.op.faults.hold(h.op.endpointPath('token'), 15_000);
    // A read with a 50 s leeway finds the 60 s token stale once 10 s have passed: it gets the
    // cached token at once, and the worker starts the one background refresh.
    await second.waitForFunction((staleAt) => Date.now() > staleAt, entry.expiresAt - 50_000 + 300, { timeout: 15_000, polling: 50 });
    expect(await read(second, 50)).toEqual({ t: cached });
    const processed = (await h.op.events.waitFor((e): e is RefreshEvent => e.type === 'refresh' && e.grantId === grantId, 10_000)) as RefreshEvent;

    // The provider has answered (and rotated the refresh token); the answer is on its way for 15 s.
    // Past the callers' 10 s, every read in every tab is still served the cached token, at once.
    await repeatUntil(processed.at + 14_000, 250, async () => {
      for (const page of [first, second]) {
        for (const leeway of [15, 50]) {
          const asked = Date.now();
          expect(await read(page, leeway)).toEqual({ t: cached });
          expect(Date.now() - asked).toBeLessThan(1000);
        }
      }
    });
    // The late answer is used: its access token becomes every tab's.
    for (const page of [first, second]) await page.waitForFunction((t) => drillTab().manager.peekToken() === t, processed.accessToken, { timeout: 15_000 });
    expect(Date.now() - processed.at).toBeGreaterThanOrEqual(14_000);
    const grant = h.op.events.grant(grantId)!;
    expect(grant.refreshes[refreshesBefore]?.accessToken).toBe(processed.accessToken);
    expect(grant.everyRefreshUsedNewest).toBe(true);
    expect(grant.invalidGrants).toBe(0);
    expect(grant.revoked).toBeNull();
    // And the refresh token it carried is the one the next refresh presents.
    const next = await first.evaluate(() => drillTab().manager.getToken({ skipCache: true }));
    expect(next).toBe(h.op.events.grant(grantId)!.refreshes.at(-1)?.accessToken);
    expect(h.op.events.grant(grantId)!.refreshes.at(-1)?.presented).toBe(processed.refreshToken);
    expect((await snapshot(first)).status).toBe('ok');
    await context.close();
  });

  it('two concurrent handleRedirect calls with one URL: exactly one redeems the code, the other rejects TokenInvalidError, and the grant stands', {
    timeout: 90_000,
  }, async () => {
    const options = h.options('oidc-redeem-twice');
    const context = await oidcContext(h, options);
    const page = await openOidcTab(context, h, options);
    // The redirect page loads without its script (playwright does not route a request reached
    // through a redirect, but the page's script is a request of its own): nothing redeems the
    // answer, so its URL can be handed over twice at once.
    const script = '**/test/e2e/oidc/callback.ts**';
    await page.route(script, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: 'export {};' }));
    await page.evaluate(() => void drillTab().manager.signIn());
    const answer = await completeDevLogin(page, { issuer: h.op.issuer, login: 'alice' });
    await page.waitForLoadState('load');
    await page.unroute(script);
    expect(await page.evaluate(() => 'callback' in globalThis)).toBe(false);
    expect(new URL(answer).searchParams.has('code')).toBe(true);
    const seen = h.op.events.events.length;

    const tab = await openOidcTab(context, h, options);
    expect((await snapshot(tab)).status).toBe('signed-out');
    // IndexedDB busy (another tab or worker writing to the grant's database): the page holds a
    // readwrite transaction on it while both calls reach the worker, so whatever transactions they
    // open are queued together and start at the same moment. Two separate reads would then both
    // find the pending sign-in; one readwrite take lets exactly one have it.
    await tab.evaluate(async (namespace) => {
      const name = (await indexedDB.databases()).map((d) => d.name ?? '').find((n) => n.includes(`:${namespace}:oidc:`) && n.endsWith(':oidc'));
      if (!name) throw new Error('no grant database for this manager');
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open(name);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const tx = db.transaction('grant', 'readwrite');
      const store = tx.objectStore('grant');
      let busy = true;
      // A transaction stays open while it has requests: one after the other until released.
      const spin = (): void => {
        store.get('busy').onsuccess = () => busy && spin();
      };
      spin();
      const done = new Promise<void>((resolve) => {
        tx.oncomplete = () => resolve(db.close());
      });
      const releaseIdb = () => {
        busy = false;
        return done;
      };
      Object.assign(globalThis, { releaseIdb });
    }, options.namespace);
    const outcomes = await tab.evaluate(async (url) => {
      const m = drillTab().manager as unknown as { handleRedirect(url: string): Promise<{ returnTo: string }> };
      const both = Promise.allSettled([m.handleRedirect(url), m.handleRedirect(url)]);
      // Both calls have reached the worker: a round trip asked after them is answered after the
      // worker took them up (the port delivers in order), and each goes straight from there to its
      // readwrite take of the pending sign-in, which now waits behind the page's transaction.
      await drillTab().manager.stats();
      await (globalThis as unknown as { releaseIdb: () => Promise<void> }).releaseIdb();
      const settled = await both;
      return settled.map((r) =>
        r.status === 'fulfilled' ? `returned ${r.value.returnTo}` : `${(r.reason as { name: string }).name} ${(r.reason as { code: string }).code}`,
      );
    }, answer);
    expect(outcomes.sort()).toEqual(['TokenInvalidError token_invalid', expect.stringMatching(/^returned \//)]);

    const after = h.op.events.events.slice(seen);
    const redemptions = after.filter((e): e is CodeEvent => e.type === 'code');
    expect(redemptions).toHaveLength(1);
    expect(after.filter((e) => e.type === 'token_error')).toEqual([]);
    const grantId = redemptions[0]!.grantId;
    expect(await tab.evaluate(() => drillTab().manager.getToken())).toBe(redemptions[0]!.accessToken);
    expect(await tab.evaluate(() => drillTab().manager.getToken({ skipCache: true }))).toBeTypeOf('string');
    expect(h.op.events.grant(grantId)).toMatchObject({ invalidGrants: 0, revoked: null });
    expect((await snapshot(tab)).status).toBe('ok');
    await context.close();
  });
});
