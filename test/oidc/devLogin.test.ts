/**
 * `completeDevLogin` in a real Chromium page: the provider's own login and consent pages filled in
 * as a person would, back to the app's redirect page with a code that redeems.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  authorizationRequest,
  completeDevLogin,
  discover,
  redeemAuthorizationAnswer,
  startOidcProvider,
  type RunningOidcProvider,
} from '../../dev/oidc/index.ts';
import { chromiumLaunchOptions } from '../../dev/browsers/chromium.ts';

let app: Server;
let appOrigin = '';
let op: RunningOidcProvider;
let browser: Browser;

beforeAll(async () => {
  // The app's redirect page: any page on the app's origin will do for the helper.
  app = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><title>app</title><p>back in the app</p>');
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appOrigin = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  op = await startOidcProvider({ appOrigins: [appOrigin], redirectUris: [`${appOrigin}/callback`], dpop: false });
  browser = await chromium.launch(chromiumLaunchOptions());
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await op?.stop();
  app?.closeAllConnections();
  await new Promise<void>((resolve) => (app ? app.close(() => resolve()) : resolve()));
});

test('signs in through the login and consent pages; a second sign-in in the same browser needs only consent', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const metadata = await discover(op.issuer);
    const client = { clientId: op.clientId, redirectUri: `${appOrigin}/callback` };

    const first = authorizationRequest(metadata, client);
    await page.goto(first.url);
    const back = await completeDevLogin(page, { issuer: op.issuer, login: 'carol' });
    expect(back.startsWith(`${appOrigin}/callback?`)).toBe(true);
    expect(await page.textContent('p')).toBe('back in the app');
    const flow = await redeemAuthorizationAnswer(metadata, first, back, client);
    expect(flow.iss).toBe(op.issuer);
    expect(typeof flow.tokens.refresh_token).toBe('string');
    const grantId = op.events.grantOf(flow.tokens.access_token) ?? '';
    expect(op.events.grant(grantId)?.accountId).toBe('carol');

    // The provider session (its cookie in this context) skips the login page; consent still shows
    // because offline_access is asked for with prompt=consent.
    const second = authorizationRequest(metadata, client);
    await page.goto(second.url);
    const again = await completeDevLogin(page, { issuer: op.issuer, login: 'ignored' });
    const flow2 = await redeemAuthorizationAnswer(metadata, second, again, client);
    expect(op.events.grantOf(flow2.tokens.access_token)).toBe(grantId);
  } finally {
    await context.close();
  }
});

test('an error page of the provider rejects with what it shows', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${op.issuer}/auth?client_id=nobody&response_type=code&scope=openid`);
    await expect(completeDevLogin(page, { issuer: op.issuer, timeoutMs: 5000 })).rejects.toThrow(/no login or consent form at .*invalid_client/);
  } finally {
    await context.close();
  }
});
