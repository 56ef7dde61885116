/**
 * OpenID Connect with DPoP against a real provider (oidc-provider with DPoP, and a resource server
 * that requires DPoP-bound tokens), and the refresh token kept out of everything a page can see.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDpopKey, refreshGrant } from '../../../dev/oidc/index.ts';
import { snapshot } from '../drills/support.ts';
import { grantOf, oidcContext, openOidcTab, signInThrough, startOidcHarness, type OidcHarness } from './support.ts';

let h: OidcHarness;
beforeAll(async () => {
  h = await startOidcHarness({ dpop: true, accessTokenTtlSeconds: 20 });
});
afterAll(async () => {
  await h?.close();
});

/** Records, in the page, every message posted on or heard from a channel or a port, and every storage write. */
function recordEverything(): void {
  const seen: string[] = [];
  const keep = (data: unknown) => {
    try {
      seen.push(JSON.stringify(data) ?? '');
    } catch {
      seen.push(String(data));
    }
  };
  for (const proto of [BroadcastChannel.prototype, MessagePort.prototype]) {
    const post = proto.postMessage as (this: unknown, ...args: unknown[]) => void;
    proto.postMessage = function (this: unknown, ...args: unknown[]) {
      keep(args[0]);
      return post.apply(this, args);
    } as typeof proto.postMessage;
    const add = proto.addEventListener as (this: unknown, ...args: unknown[]) => void;
    proto.addEventListener = function (this: unknown, type: unknown, listener: unknown, ...rest: unknown[]) {
      if (type === 'message' && typeof listener === 'function') {
        const wrapped = (event: MessageEvent) => {
          keep(event.data);
          return (listener as (e: MessageEvent) => unknown)(event);
        };
        return add.call(this, type, wrapped, ...rest);
      }
      return add.call(this, type, listener, ...rest);
    } as typeof proto.addEventListener;
  }
  // The client sets `onmessage` on its channel: hear it through a listener of our own on the same names.
  const open = globalThis.BroadcastChannel;
  globalThis.BroadcastChannel = class extends open {
    constructor(name: string) {
      super(name);
      const ear = new open(name);
      ear.onmessage = (event) => keep(event.data);
    }
  } as typeof BroadcastChannel;
  Object.assign(globalThis, { everything: () => [...seen, JSON.stringify({ ...localStorage }), JSON.stringify({ ...sessionStorage }), document.cookie] });
}

async function recordedIn(page: Page): Promise<string> {
  return (await page.evaluate(() => (globalThis as unknown as { everything: () => string[] }).everything())).join('\n');
}

describe('OpenID Connect: DPoP', () => {
  it('the access token is DPoP-bound: a resource server that requires DPoP refuses it as a Bearer token and accepts it through tokens.fetch', {
    timeout: 60_000,
  }, async () => {
    const resource = h.op.resource!;
    const options = h.options('oidc-dpop', { fetchOrigins: [new URL(resource.url).origin] });
    const context = await oidcContext(h, options);
    const page = await openOidcTab(context, h, options);
    await signInThrough(page, h);
    const token = (await page.evaluate(() => drillTab().manager.getToken()))!;
    const s = await snapshot(page);
    expect(Object.values(s.tokens)[0]?.scheme).toBe('DPoP');
    const plain = await page.evaluate(
      async ([url, t]) => (await fetch(url!, { headers: { authorization: `Bearer ${t}` } })).status,
      [resource.resourceUrl, token],
    );
    expect(plain).toBe(401);
    const proofless = await page.evaluate(
      async ([url, t]) => (await fetch(url!, { headers: { authorization: `DPoP ${t}` } })).status,
      [resource.resourceUrl, token],
    );
    expect(proofless).toBe(401);
    const through = await page.evaluate(async (url) => {
      const res = await drillTab().manager.fetch(url);
      return { status: res.status, body: await res.text() };
    }, resource.resourceUrl);
    expect(through.status).toBe(200);
    expect(JSON.parse(through.body)).toMatchObject({ sub: 'alice' });
    // A resource server that asks for a nonce gets one retry with it.
    resource.setRequireNonce(true);
    const withNonce = await page.evaluate(async (url) => (await drillTab().manager.fetch(url)).status, resource.resourceUrl);
    expect(withNonce).toBe(200);
    resource.setRequireNonce(false);
    await context.close();
  });

  it("a refresh attempted with another key fails at the provider, and the grant stays the tabs'", { timeout: 60_000 }, async () => {
    const options = h.options('oidc-dpop-key');
    const context = await oidcContext(h, options);
    const page = await openOidcTab(context, h, options);
    await signInThrough(page, h);
    const grantId = await grantOf(page, h);
    const refreshToken = h.op.currentRefreshToken(grantId)!;
    const metadata = (await (await fetch(`${h.op.issuer}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
    const thief = await refreshGrant({
      tokenEndpoint: metadata.token_endpoint,
      clientId: h.op.clientId,
      refreshToken,
      dpop: await createDpopKey(),
      origin: h.base,
    });
    expect(thief.status).toBe(400);
    expect(h.op.events.grant(grantId)?.errors.at(-1)?.detail).toMatch(/jkt/);
    expect(h.op.events.grant(grantId)?.revoked).toBeNull();
    // The tab's own key still works.
    expect(await page.evaluate(() => drillTab().manager.getToken({ skipCache: true }))).toBeTypeOf('string');
    expect(h.op.events.grant(grantId)?.refreshes.length).toBeGreaterThanOrEqual(1);
    await context.close();
  });

  it('a Bearer answer with DPoP on: the key stays with the grant, later refreshes still carry proofs from it and succeed, and the scheme says Bearer', {
    timeout: 90_000,
  }, async () => {
    // oidc-provider names every token it binds to a proof `DPoP`; a provider may instead answer
    // `Bearer` while it binds the refresh token to the key (RFC 9449 section 5). The fault layer
    // renames the token_type of its answers on their way out, and nothing else.
    const remove = h.op.faults.add({
      path: h.op.endpointPath('token'),
      method: 'POST',
      fault: { kind: 'rewrite', body: (json) => (json.token_type === 'DPoP' ? { ...json, token_type: 'Bearer' } : json) },
    });
    try {
      const options = h.options('oidc-dpop-bearer');
      const context = await oidcContext(h, options);
      const page = await openOidcTab(context, h, options);
      await signInThrough(page, h);
      const grantId = await grantOf(page, h);
      const code = h.op.events.events.find((e) => e.type === 'code' && e.grantId === grantId);
      const jkt = code?.type === 'code' ? code.dpopJkt : null;
      expect(jkt).toBeTypeOf('string');
      expect(Object.values((await snapshot(page)).tokens)[0]?.scheme).toBeUndefined();
      for (let i = 0; i < 2; i++) expect(await page.evaluate(() => drillTab().manager.getToken({ skipCache: true }))).toBeTypeOf('string');
      const grant = h.op.events.grant(grantId)!;
      expect(grant.refreshes.length).toBeGreaterThanOrEqual(2);
      // Each refresh carried a proof from the grant's own key (the provider bound its tokens to it).
      expect(grant.refreshes.map((r) => r.dpopJkt)).toEqual(grant.refreshes.map(() => jkt));
      expect(grant.invalidGrants).toBe(0);
      expect(grant.revoked).toBeNull();
      expect(await snapshot(page)).toMatchObject({ status: 'ok', userId: 'alice' });
      expect(Object.values((await snapshot(page)).tokens)[0]?.scheme).toBeUndefined();
      await context.close();
    } finally {
      remove();
    }
  });

  for (const mode of ['shared', 'local'] as const) {
    it(`the refresh token is in no snapshot, no message on a channel or a port, no reply, no web storage and no cookie (${mode} mode)`, {
      timeout: 90_000,
    }, async () => {
      const options = h.options(`oidc-secret-${mode}`);
      const context = await oidcContext(h, options);
      await context.addInitScript(recordEverything);
      const flags = mode === 'local' ? { nosw: true } : {};
      const page = await openOidcTab(context, h, options, flags);
      await signInThrough(page, h);
      const other = await openOidcTab(context, h, options, flags);
      const grantId = await grantOf(page, h);
      // Refreshes happen (the refresh token rotates, and crosses nothing), and a sign-out too.
      await other.evaluate(() => drillTab().manager.getToken({ skipCache: true }));
      await page.evaluate(() => drillTab().manager.getToken({ skipCache: true }));
      await other.evaluate(() => drillTab().manager.stats());
      const refreshTokens = h.op.store.refreshTokens(grantId).map((t) => t.value);
      expect(refreshTokens.length).toBeGreaterThanOrEqual(2);
      const recorded = `${await recordedIn(page)}\n${await recordedIn(other)}\n${JSON.stringify(await snapshot(page))}\n${JSON.stringify(await snapshot(other))}`;
      // The recording works: the access tokens crossed the channel and the ports, and were heard.
      expect(await recordedIn(other)).toContain((await snapshot(other)).tokens[`${(await snapshot(other)).sessionId}|||`]!.jwt);
      for (const rt of refreshTokens) expect(recorded.includes(rt)).toBe(false);
      await page.evaluate(() => drillTab().manager.signOut());
      const after = `${await recordedIn(page).catch(() => '')}\n${await recordedIn(other)}`;
      for (const rt of refreshTokens) expect(after.includes(rt)).toBe(false);
      await context.close();
    });
  }
});
