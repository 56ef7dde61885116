/**
 * An app served over plain http from an address that is not localhost — a phone testing a dev
 * server on the LAN, an intranet app — runs outside a secure context: no `crypto.randomUUID`, no
 * Web Locks. Chromium resolves `app.test` to the test server, so the page is such an app.
 */
import { describe, expect } from 'vitest';
import { drillTest } from './drills/fixtures.ts';
import { getToken, mintLog, openTab, signIn, snapshot, tabUrl } from './drills/support.ts';

const it = drillTest({ hosts: ['app.test'], browserArgs: ['--host-resolver-rules=MAP app.test 127.0.0.1'] });
/** The test server as the browser reaches it, outside a secure context (Node reaches it as `h.base`). */
let base: string;

it.beforeAll(({ h }) => {
  base = h.at('app.test');
});

describe('a page outside a secure context', () => {
  it('still shares one worker across tabs: tokens flow and each refresh is one mint', async ({ h, context }) => {
    const sessionId = await signIn(context, base);
    const first = await openTab(context, base, { namespace: 'insecure', pollIntervalMs: 1000 });
    expect(await first.evaluate(() => [window.isSecureContext, typeof crypto.randomUUID, typeof navigator.locks])).toEqual([false, 'undefined', 'undefined']);
    const second = await openTab(context, base, { namespace: 'insecure', pollIntervalMs: 1000 });
    const token = await getToken(first);
    expect(token).toMatch(/^eyJ/);
    expect(await getToken(second)).toBe(token);
    for (const page of [first, second]) {
      expect(await snapshot(page)).toMatchObject({ mode: 'shared', status: 'ok', sessionId });
    }
    // A forced refresh in one tab reaches the other: one worker, one mint.
    const before = (await mintLog(h.base)).filter((r) => r.sessionId === sessionId && r.status === 200).length;
    const fresh = await first.evaluate(() => drillTab().manager.getToken({ skipCache: true }));
    expect(fresh).not.toBe(token);
    await second.waitForFunction((jwt) => drillTab().manager.peekToken() === jwt, fresh, { timeout: 5000 });
    expect((await mintLog(h.base)).filter((r) => r.sessionId === sessionId && r.status === 200).length).toBe(before + 1);
  });

  it('runs local mode without Web Locks: each tab refreshes for itself and gets its token', async ({ context }) => {
    const sessionId = await signIn(context, base);
    const page = await openTab(context, base, { namespace: 'insecure-local', mode: 'local' });
    expect(await getToken(page)).toMatch(/^eyJ/);
    expect(await snapshot(page)).toMatchObject({ mode: 'local', status: 'ok', sessionId });
  });

  it('refuses OpenID Connect, which needs WebCrypto and Web Locks: ready rejects with ConnectionError saying so, and nothing is asked of the provider', async ({
    context,
  }) => {
    const page = await context.newPage();
    // A loopback issuer nobody listens on: a request to it would fail differently.
    const options = { namespace: 'insecure-oidc', oidc: { issuer: 'http://127.0.0.1:9/', clientId: 'app', redirectUri: `${base}/cb` } };
    await page.goto(tabUrl(base, options));
    await page.waitForFunction(() => 'tabtoken' in globalThis);
    const outcome = await page.evaluate(() =>
      drillTab().manager.ready.then(
        () => 'ready',
        (e: { name: string; code: string; message: string }) => [e.name, e.code, e.message],
      ),
    );
    expect(outcome).toEqual(['ConnectionError', 'connection', expect.stringMatching(/secure context/)]);
  });
});
