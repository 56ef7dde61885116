/**
 * The app's own token endpoint against a real better-auth server (email and password, its `jwt`
 * plugin, memory adapter) mounted on the app's own origin at `/api/auth`: the page signs up and in
 * over better-auth's own routes, so the session cookie is the browser's; the manager reads
 * `GET /api/auth/token` (`{ token }`, an EdDSA JWT of 20 s here), checks it against
 * `/api/auth/jwks`, and signs out through `POST /api/auth/sign-out`. Counted by better-auth's
 * server itself (its token route's answers, every route it served).
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { Page } from 'playwright-core';
import { describe } from 'vitest';
import { betterAuthOptions, endpointTest, noReads, openTab, readWhile, settle, waitStatus, type EndpointManager } from './support.ts';

const it = endpointTest();

/** Signs up, signs out of that session and signs in again, all from the page; answers the user's id. */
async function signUpAndIn(page: Page, email: string): Promise<string> {
  return page.evaluate(async (address) => {
    const post = async (path: string, body?: object) => {
      const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
      if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as { user?: { id: string } };
    };
    const credentials = { email: address, password: 'correct horse battery staple' };
    await post('/api/auth/sign-up/email', { ...credentials, name: 'Ada' });
    await post('/api/auth/sign-out');
    const signedIn = await post('/api/auth/sign-in/email', credentials);
    await (drillTab().manager as EndpointManager).sync();
    return signedIn.user!.id;
  }, email);
}

describe('the app’s own token endpoint against better-auth', () => {
  it('signed up and in over better-auth’s routes, five tabs cost one GET /api/auth/token per token they saw, each token verified against its JWKS (EdDSA), and its sign-out route reaches every tab', async ({
    h,
    context,
    expect,
  }) => {
    const ba = h.betterAuth();
    const options = betterAuthOptions('ba-five', { verify: { jwksUrl: '/api/auth/jwks', issuer: h.base } });
    const first = await openTab(context, h.base, options);
    expect(await first.evaluate(() => drillTab().manager.getSnapshot().status)).toBe('signed-out'); // its token route answered 401
    const userId = await signUpAndIn(first, 'ada@example.test');
    const pages = [first];
    for (let i = 1; i < 5; i++) pages.push(await openTab(context, h.base, options));
    for (const page of pages) await waitStatus(page, 'ok');

    // userId and claims come from the JWT better-auth signed.
    const snapshot = await first.evaluate(() => drillTab().manager.getSnapshot());
    expect(snapshot).toMatchObject({ userId, claims: { sub: userId, email: 'ada@example.test', iss: h.base } });
    const jwt = Object.values(snapshot.tokens)[0]!.jwt;
    expect(decodeProtectedHeader(jwt).alg).toBe('EdDSA');
    expect(decodeJwt(jwt).exp! - decodeJwt(jwt).iat!).toBe(20);

    // Three refresh cycles with every tab reading: one token request per token the tabs saw.
    const reads = noReads(pages);
    const before = await settle(pages, reads, async () => ba.stats().tokens);
    const requestsBefore = ba.stats().tokenRequests;
    const deadline = Date.now() + 45_000;
    await readWhile(pages, (r) => r.seen.size < 4 && Date.now() < deadline, reads);
    const after = await settle(pages, reads, async () => ba.stats().tokens);
    expect(reads.failures).toEqual([]);
    expect(reads.seen.size).toBeGreaterThanOrEqual(4);
    expect(after - before).toBe(reads.seen.size - 1);
    for (const tab of reads.perTab) expect([...tab].sort()).toEqual([...reads.seen].sort());
    expect(ba.stats().tokenRequests - requestsBefore).toBe(after - before);
    expect((await first.evaluate(() => drillTab().manager.stats())).tabs).toBe(5);

    // Sign-out from the last tab: better-auth's own route, then every tab signed out.
    const routes = ba.stats().routes['POST /api/auth/sign-out'] ?? 0;
    await pages[4]!.evaluate(() => drillTab().manager.signOut());
    for (const page of pages) await waitStatus(page, 'signed-out', 5000);
    for (const page of pages) expect(await page.evaluate(() => drillTab().manager.getToken())).toBeNull();
    expect(ba.stats().routes['POST /api/auth/sign-out']).toBe(routes + 1);
    // better-auth ended the session: the browser's cookie gets no token any more.
    expect(await first.evaluate(async () => (await fetch('/api/auth/token')).status)).toBe(401);
    expect(await first.evaluate(() => drillTab().events.filter((e) => e.type === 'error'))).toEqual([]);
  });

  it('a better-auth token checked against another key set is refused and never cached', async ({ h, context, expect }) => {
    // The development origin's JWKS (ES256 keys): no key of it signed better-auth's token.
    const page = await openTab(context, h.base, betterAuthOptions('ba-wrong-keys', { verify: { jwksUrl: '/.well-known/jwks.json' } }));
    const sync = await page.evaluate(async (address) => {
      const res = await fetch('/api/auth/sign-up/email', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: address, password: 'correct horse battery staple', name: 'Eve' }),
      });
      if (!res.ok) throw new Error(`sign-up answered ${res.status}`);
      return (drillTab().manager as EndpointManager).sync().then(
        () => 'resolved',
        (e: { code?: string }) => String(e.code),
      );
    }, 'eve@example.test');
    expect(sync).toBe('token_invalid');
    expect(await page.evaluate(() => drillTab().manager.getSnapshot())).toMatchObject({ sessionId: null, tokens: {} });
  });
});
