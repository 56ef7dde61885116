/**
 * OpenID Connect refresh with rotation against a real provider (oidc-provider, rotation on, DPoP
 * off), counted from the provider's own events: one refresher for every tab, each refresh with the
 * newest refresh token, a replayed refresh token revoking the grant for every tab, an outage of the
 * provider, sign-out with revocation, and the grant surviving a reload and a new worker.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshGrant } from '../../../dev/oidc/index.ts';
import { repeatUntil } from '../../support/wait.ts';
import { snapshot, waitReady } from '../drills/support.ts';
import { keyOf, workerEnded } from '../support/workerState.ts';
import { grantOf, oidcContext, openOidcTab, signInThrough, startOidcHarness, type OidcHarness } from './support.ts';

let h: OidcHarness;
beforeAll(async () => {
  h = await startOidcHarness({ accessTokenTtlSeconds: 20 });
});
afterAll(async () => {
  await h?.close();
});

/** Reads in every tab until `ms` have passed; answers every token seen and any read that did not give one. */
async function readFor(pages: Page[], ms: number): Promise<{ seen: Set<string>; failures: unknown[] }> {
  const seen = new Set<string>();
  const failures: unknown[] = [];
  await repeatUntil(Date.now() + ms, 100, async () => {
    const results = await Promise.all(
      pages.map((p) =>
        p.evaluate(() =>
          drillTab()
            .manager.getToken()
            .then(
              (t) => ({ t }),
              (e: Error) => ({ e: `${e.name}: ${e.message}` }),
            ),
        ),
      ),
    );
    for (const r of results) {
      if ('t' in r && typeof r.t === 'string') seen.add(r.t);
      else failures.push(r);
    }
  });
  return { seen, failures };
}

async function signedInTabs(namespace: string, count: number, flags: { nosw?: boolean } = {}) {
  const options = h.options(namespace);
  const context = await oidcContext(h, options);
  const first = await openOidcTab(context, h, options, flags);
  await signInThrough(first, h);
  const pages = [first];
  for (let i = 1; i < count; i++) pages.push(await openOidcTab(context, h, options, flags));
  return { context, options, pages, grantId: await grantOf(first, h) };
}

describe('OpenID Connect: refresh with rotation', () => {
  it('five tabs reading for three token lifetimes cost exactly one refresh per token that became the cached one, each with the newest refresh token', {
    timeout: 150_000,
  }, async () => {
    const { context, pages, grantId } = await signedInTabs('oidc-five', 5);
    const code = await pages[0]!.evaluate(() => drillTab().manager.getToken());
    const { seen, failures } = await readFor(pages, 62_000);
    // A refresh may still be on its way: only those answered before the last reads must have been seen.
    const answered = h.op.events.grant(grantId)!.refreshes.filter((r) => r.at < Date.now() - 2000);
    const last = await readFor(pages, 300);
    for (const t of last.seen) seen.add(t);
    expect(failures).toEqual([]);
    const grant = h.op.events.grant(grantId)!;
    // Every token the tabs saw came from the code or from one refresh, and every refresh's token was
    // seen: one refresh per token that became the cached one, none wasted, none missing.
    expect(answered.length).toBeGreaterThanOrEqual(6);
    for (const refresh of answered) expect(seen.has(refresh.accessToken)).toBe(true);
    const issued = new Set([code, ...grant.refreshes.map((r) => r.accessToken)]);
    for (const token of seen) expect(issued.has(token)).toBe(true);
    expect(seen.size - 1).toBe(grant.refreshes.filter((r) => seen.has(r.accessToken)).length);
    expect(grant.everyRefreshUsedNewest).toBe(true);
    expect(grant.refreshes.every((r) => r.rotated)).toBe(true);
    expect(grant.invalidGrants).toBe(0);
    expect(grant.revoked).toBeNull();
    const stats = await pages[0]!.evaluate(() => drillTab().manager.stats());
    expect(stats.tabs).toBe(5);
    expect(stats.mints).toBe(grant.refreshes.length);
    await context.close();
  });

  it('a refresh token replayed from outside makes the provider revoke the grant: every tab signs out, and no read hangs', { timeout: 90_000 }, async () => {
    const { context, pages, grantId } = await signedInTabs('oidc-replay', 3);
    const first = h.op.store.refreshTokens(grantId)[0]!.value;
    // Let the tabs rotate it once, then present the old one as a thief would.
    await h.op.events.waitFor((e) => e.type === 'refresh' && e.grantId === grantId, 20_000);
    const metadata = (await (await fetch(`${h.op.issuer}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
    const replay = await refreshGrant({ tokenEndpoint: metadata.token_endpoint, clientId: h.op.clientId, refreshToken: first, origin: h.base });
    expect(replay.body.error).toBe('invalid_grant');
    await expect.poll(() => h.op.events.grant(grantId)?.revoked?.route, { timeout: 5000 }).toBe('token');
    for (const page of pages) await page.waitForFunction(() => drillTab().manager.getSnapshot().status === 'signed-out', null, { timeout: 30_000 });
    for (const page of pages) expect(await page.evaluate(() => drillTab().manager.getToken())).toBeNull();
    expect(await snapshot(pages[0]!)).toMatchObject({ sessionId: null, userId: null, claims: null, tokens: {} });
    await context.close();
  });

  it('with the provider unreachable for longer than a token lifetime, every tab serves the token until its real expiry, says degraded, and is ok again once it is back', {
    timeout: 120_000,
  }, async () => {
    const { context, pages } = await signedInTabs('oidc-outage', 2);
    const token = await pages[0]!.evaluate(() => drillTab().manager.getToken({ skipCache: true }));
    const expiresAt = (await snapshot(pages[0]!)).tokens[Object.keys((await snapshot(pages[0]!)).tokens)[0]!]!.expiresAt;
    await h.op.proxy.stop();
    try {
      for (const page of pages) await page.waitForFunction(() => drillTab().manager.getSnapshot().status === 'degraded', null, { timeout: 30_000 });
      // Until its real expiry the cached token is served (no hard cutoff during an outage), never null.
      await repeatUntil(expiresAt - 500, 500, async () => {
        for (const page of pages) expect(await page.evaluate(() => drillTab().manager.getToken())).toBe(token);
      });
      // Past the real expiry, on the page's clock.
      await pages[1]!.waitForFunction((at) => Date.now() > at, expiresAt + 500, { timeout: 5000, polling: 10 });
      const after = await pages[1]!.evaluate(() =>
        drillTab()
          .manager.getToken()
          .then(
            () => 'token',
            (e: { code: string }) => e.code,
          ),
      );
      expect(after).toBe('origin_unavailable');
    } finally {
      await h.op.proxy.start();
    }
    for (const page of pages) await page.waitForFunction(() => drillTab().manager.getSnapshot().status === 'ok', null, { timeout: 40_000 });
    const fresh = await pages[0]!.evaluate(() => drillTab().manager.getToken());
    expect(fresh).toBeTypeOf('string');
    expect(fresh).not.toBe(token);
    await context.close();
  });

  it('sign-out revokes the refresh token at the provider and reaches every tab', { timeout: 60_000 }, async () => {
    const { context, pages, grantId } = await signedInTabs('oidc-signout', 3);
    const refreshToken = h.op.currentRefreshToken(grantId)!;
    expect((await h.op.introspect(refreshToken)).active).toBe(true);
    await pages[2]!.evaluate(() => drillTab().manager.signOut());
    for (const page of pages) await page.waitForFunction(() => drillTab().manager.getSnapshot().status === 'signed-out', null, { timeout: 10_000 });
    await expect.poll(async () => (await h.op.introspect(refreshToken)).active, { timeout: 10_000 }).toBe(false);
    expect(h.op.events.grant(grantId)?.revoked?.route).toBe('revocation');
    await context.close();
  });

  it('the only tab reloaded, and a new worker after every tab closed, are still signed in from the stored grant', { timeout: 90_000 }, async () => {
    const { context, options, pages, grantId } = await signedInTabs('oidc-persist', 1);
    const page = pages[0]!;
    const before = await snapshot(page);
    await page.reload();
    await waitReady(page);
    expect(await snapshot(page)).toMatchObject({ status: 'ok', sessionId: before.sessionId, userId: 'alice' });
    await page.close();
    await workerEnded(context, h.base, keyOf(options, h.base));
    const again = await openOidcTab(context, h, options);
    expect(await snapshot(again)).toMatchObject({ status: 'ok', sessionId: before.sessionId });
    // The new worker refreshes with the stored (rotated) refresh token.
    const refreshes = h.op.events.grant(grantId)!.refreshes.length;
    await again.evaluate(() => drillTab().manager.getToken({ skipCache: true }));
    expect(h.op.events.grant(grantId)!.refreshes.length).toBe(refreshes + 1);
    expect(h.op.events.grant(grantId)!.invalidGrants).toBe(0);
    await context.close();
  });

  it('in local mode the leader holds the grant; when it closes the next leader carries on from the stored grant', { timeout: 90_000 }, async () => {
    const { context, pages, grantId } = await signedInTabs('oidc-local', 3, { nosw: true });
    expect((await snapshot(pages[1]!)).mode).toBe('local');
    // The first tab leads (it started the engine); it closes, and another takes over.
    await pages[0]!.close();
    const rest = pages.slice(1);
    const refreshes = h.op.events.grant(grantId)!.refreshes.length;
    const token = await rest[1]!.evaluate(() => drillTab().manager.getToken({ skipCache: true }));
    expect(token).toBeTypeOf('string');
    expect(h.op.events.grant(grantId)!.refreshes.length).toBeGreaterThan(refreshes);
    expect(h.op.events.grant(grantId)!.invalidGrants).toBe(0);
    for (const page of rest) await page.waitForFunction((t) => drillTab().manager.peekToken() === t, token, { timeout: 10_000 });
    await context.close();
  });

  it('two tabs signing in at once both come back signed in, to one grant', { timeout: 90_000 }, async () => {
    const options = h.options('oidc-two');
    const context = await oidcContext(h, options);
    const [a, b] = [await openOidcTab(context, h, options), await openOidcTab(context, h, options)];
    await Promise.all([signInThrough(a!, h, 'alice'), signInThrough(b!, h, 'alice')]);
    const [sa, sb] = [await snapshot(a!), await snapshot(b!)];
    expect(sa.status).toBe('ok');
    expect(sb.sessionId).toBe(sa.sessionId);
    await context.close();
  });

  it('a sign-in without offline_access gets no refresh token: every tab is served the access token until it expires, then every tab signs out', {
    timeout: 90_000,
  }, async () => {
    const options = h.options('oidc-no-refresh', { oidc: { scope: 'openid' } });
    const context = await oidcContext(h, options);
    const first = await openOidcTab(context, h, options);
    await signInThrough(first, h);
    const second = await openOidcTab(context, h, options);
    const grantId = await grantOf(first, h);
    const code = h.op.events.events.find((e) => e.type === 'code' && e.grantId === grantId);
    expect(code).toMatchObject({ refreshToken: null });
    const token = await first.evaluate(() => drillTab().manager.getToken());
    expect(await second.evaluate(() => drillTab().manager.getToken())).toBe(token);
    const entry = Object.values((await snapshot(first)).tokens)[0]!;
    // Read in both tabs until a moment past the token's real expiry.
    const { seen } = await readFor([first, second], entry.expiresAt - Date.now() + 2000);
    expect([...seen]).toEqual([token]);
    for (const page of [first, second]) await page.waitForFunction(() => drillTab().manager.getSnapshot().status === 'signed-out', null, { timeout: 10_000 });
    for (const page of [first, second]) expect(await page.evaluate(() => drillTab().manager.getToken())).toBeNull();
    // Nothing was asked of the token endpoint after the code: there was nothing to refresh with.
    expect(h.op.events.grant(grantId)!.refreshes).toEqual([]);
    await context.close();
  });
});
