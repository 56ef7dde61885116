/**
 * The usual production layout: the app on one origin, its token origin on another of the same site
 * (`app.example.com` and `clerk.example.com`). Here the app is `app.localhost`, served by Vite, and
 * the token origin `api.app.localhost`, a development origin of its own on another port that allows
 * the app's origin (CORS with credentials, `Date` exposed). Chromium resolves `*.localhost` to the
 * loopback address, and both are secure contexts.
 */
import { decodeJwt } from 'jose';
import { describe, expect } from 'vitest';
import { serveOrigin, type RunningOrigin } from '../support/servers.ts';
import { drillTest } from './drills/fixtures.ts';
import { getToken, mintLog, openTab, signIn, snapshot, type MintRecord } from './drills/support.ts';

const it = drillTest({ hosts: ['app.localhost', 'other.localhost'] });
let tokenServer: RunningOrigin;
/** The app's origin, and the token origin as the browser and as Node reach it. */
let app: string;
/** An app the token origin does not allow. */
let otherApp: string;
let api: string;
let apiDirect: string;

const apiLog = (): Promise<MintRecord[]> => mintLog(apiDirect);

it.beforeAll(async ({ h }) => {
  app = h.at('app.localhost');
  otherApp = h.at('other.localhost');
  tokenServer = await serveOrigin({ faults: true, allowedOrigins: [app] });
  apiDirect = tokenServer.base;
  api = `http://api.app.localhost:${new URL(apiDirect).port}`;
});
it.afterAll(async () => {
  await tokenServer?.close();
});

describe('a token origin on another origin of the same site', () => {
  it('serves every tab through one worker with credentials: tokens, one mint per refresh, sign-out everywhere', async ({ context }) => {
    const sessionId = await signIn(context, api);
    const options = { namespace: 'cross', frontendApi: api, pollIntervalMs: 1000 };
    const first = await openTab(context, app, options);
    const second = await openTab(context, app, options);
    expect(await first.evaluate(() => [location.origin, window.isSecureContext])).toEqual([app, true]);

    const token = await getToken(first);
    expect(decodeJwt(token!).sid).toBe(sessionId);
    expect(await getToken(second)).toBe(token);
    for (const page of [first, second]) expect(await snapshot(page)).toMatchObject({ mode: 'shared', status: 'ok', sessionId });
    // The token's life is read against the origin's Date header, which CORS exposes: about 60 s.
    expect(await first.evaluate(async (url) => (await fetch(url, { credentials: 'include' })).headers.get('date'), `${api}/v1/client`)).toMatch(/GMT$/);
    const held = (await snapshot(first)).tokens[`${sessionId}|||`]!;
    expect(held.expiresAt - Date.now()).toBeGreaterThan(40_000);
    expect(held.expiresAt - Date.now()).toBeLessThanOrEqual(61_000);

    const mintsBefore = (await apiLog()).filter((r) => r.sessionId === sessionId && r.status === 200).length;
    const fresh = await first.evaluate(() => drillTab().manager.getToken({ skipCache: true }));
    expect(fresh).not.toBe(token);
    await second.waitForFunction((jwt) => drillTab().manager.peekToken() === jwt, fresh, { timeout: 5000 });
    expect((await apiLog()).filter((r) => r.sessionId === sessionId && r.status === 200).length).toBe(mintsBefore + 1);

    await second.evaluate(() => drillTab().manager.signOut());
    await first.waitForFunction(() => drillTab().manager.getSnapshot().status === 'signed-out', undefined, { timeout: 5000 });
    expect(await getToken(first)).toBeNull();
    // The session ended at the token origin, with the browser's own cookie.
    const client = (await first.evaluate(async (url) => (await fetch(url, { credentials: 'include' })).json(), `${api}/v1/client`)) as {
      response: { sessions: unknown[] } | null;
    };
    expect(client.response?.sessions ?? []).toEqual([]);
  });

  it('an app the token origin does not allow sees an unreachable origin, and the error says to check CORS', { timeout: 30_000 }, async ({ context }) => {
    await signIn(context, api);
    const page = await openTab(context, otherApp, { namespace: 'not-allowed', frontendApi: api });
    expect(await snapshot(page)).toMatchObject({ status: 'degraded', sessionId: null });
    // getToken waits out the outage (10 s), then rejects with the last failure in its message.
    const failure = await page.evaluate(() =>
      drillTab()
        .manager.getToken()
        .then(
          () => null,
          (e: Error & { code: string }) => ({ code: e.code, message: e.message }),
        ),
    );
    expect(failure?.code).toBe('origin_unavailable');
    expect(failure?.message).toContain(`does its CORS allow ${otherApp} with credentials?`);
  });
});
