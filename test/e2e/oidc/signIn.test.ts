/**
 * OpenID Connect against a real provider (oidc-provider on loopback), with real tabs: sign-in by
 * redirect, the user and claims in every tab, and the redirect page's answers checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeDevLogin } from '../../../dev/oidc/index.ts';
import { snapshot } from '../drills/support.ts';
import { grantOf, oidcContext, openOidcTab, signInThrough, startOidcHarness, type OidcHarness } from './support.ts';

let h: OidcHarness;
beforeAll(async () => {
  h = await startOidcHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('OpenID Connect: sign-in', () => {
  it("signs in through the provider's authorization endpoint and the redirect page; every tab has the user, the claims and the token", async () => {
    const options = h.options('oidc-signin');
    const context = await oidcContext(h, options);
    const page = await openOidcTab(context, h, options);
    expect(await snapshot(page)).toMatchObject({ status: 'signed-out', sessionId: null });
    await signInThrough(page, h, 'alice');
    const other = await openOidcTab(context, h, options);
    for (const tab of [page, other]) {
      const s = await snapshot(tab);
      expect(s).toMatchObject({ status: 'ok', mode: 'shared', userId: 'alice' });
      expect(s.sessionId).toMatch(/^oidc_/);
    }
    const token = await page.evaluate(() => drillTab().manager.getToken());
    expect(token).toBeTypeOf('string');
    expect(await other.evaluate(() => drillTab().manager.getToken())).toBe(token);
    // The address bar holds none of the answer's parameters.
    expect(new URL(page.url()).searchParams.has('code')).toBe(false);
    const grantId = await grantOf(page, h);
    expect(h.op.events.grant(grantId)?.refreshTokens.length).toBe(1);
    await context.close();
  });

  it('refuses a reused or a forged state, an error answer and Clerk-only options with their typed errors, and changes nothing', {
    timeout: 90_000,
  }, async () => {
    const options = h.options('oidc-refusals');
    const context = await oidcContext(h, options);
    const page = await openOidcTab(context, h, options);
    const start = page.url();
    await page.evaluate(() => void drillTab().manager.signIn());
    const answer = await completeDevLogin(page, { issuer: h.op.issuer, login: 'alice' });
    await page.waitForURL((url) => url.href === start, { timeout: 20_000 });
    await page.waitForFunction(() => drillTab().manager.getSnapshot().status === 'ok');
    const before = await snapshot(page);

    const callbackError = async (url: string) => {
      const redirect = await context.newPage();
      await redirect.goto(url);
      await redirect.waitForFunction(() => (globalThis as unknown as { callback: { error?: unknown } }).callback?.error);
      const error = await redirect.evaluate(
        () => (globalThis as unknown as { callback: { error: { name: string; code: string; message: string } } }).callback.error,
      );
      // The answer's parameters are gone from the address bar, whatever came of it.
      expect(new URL(redirect.url()).searchParams.has('state')).toBe(false);
      await redirect.close();
      return error;
    };
    // The same answer again: its state was used up.
    expect(await callbackError(answer)).toMatchObject({ name: 'TokenInvalidError', code: 'token_invalid' });
    // A state this browser never made.
    expect(await callbackError(`${h.callback}?code=forged&state=forged&iss=${encodeURIComponent(h.op.issuer)}`)).toMatchObject({ name: 'TokenInvalidError' });
    // The provider's error answer, for a state this browser did make.
    await page.route(`${h.op.issuer}/auth**`, (route) => {
      const asked = new URL(route.request().url());
      const back = new URL(h.callback);
      back.search = new URLSearchParams({
        error: 'access_denied',
        error_description: 'the user said no',
        state: asked.searchParams.get('state')!,
        iss: h.op.issuer,
      }).toString();
      return route.fulfill({ status: 302, headers: { location: back.href } });
    });
    await page.evaluate(() => void drillTab().manager.signIn());
    await page.waitForURL((url) => url.pathname.endsWith('/callback.html'));
    await page.waitForFunction(() => (globalThis as unknown as { callback: { error?: unknown } }).callback?.error);
    const refused = await page.evaluate(() => (globalThis as unknown as { callback: { error: { name: string; message: string } } }).callback.error);
    expect(refused.name).toBe('OriginResponseError');
    expect(refused.message).toContain('access_denied');
    await page.unroute(`${h.op.issuer}/auth**`);
    // Nothing changed: the grant from before is every tab's still.
    const tab = await openOidcTab(context, h, options);
    expect(await snapshot(tab)).toMatchObject({ status: 'ok', sessionId: before.sessionId });
    // One grant, one token: Clerk's options are refused.
    await expect(
      tab.evaluate(() =>
        drillTab()
          .manager.getToken({ template: 'api' })
          .catch((e: { code: string }) => e.code),
      ),
    ).resolves.toBe('invalid_argument');
    expect(
      await tab.evaluate(() => {
        try {
          drillTab().manager.peekToken({ expiresInSeconds: 60 });
          return 'no error';
        } catch (e) {
          return (e as { code: string }).code;
        }
      }),
    ).toBe('invalid_argument');
    await expect(
      tab.evaluate(() =>
        drillTab()
          .manager.setActiveSession('sess_other')
          .catch((e: { code: string }) => e.code),
      ),
    ).resolves.toBe('invalid_argument');
    await context.close();
  });

  it("an issuer option that differs from the provider's discovery document by a trailing slash is refused at sign-in: the document is not used (TokenInvalidError)", {
    timeout: 60_000,
  }, async () => {
    const options = h.options('oidc-issuer', { oidc: { issuer: `${h.op.issuer}/` } });
    const context = await oidcContext(h, options);
    const page = await openOidcTab(context, h, options);
    const outcome = await page.evaluate(() =>
      drillTab()
        .manager.signIn()
        .then(
          () => 'signed in',
          (e: { name: string; message: string }) => `${e.name}: ${e.message}`,
        ),
    );
    expect(outcome).toMatch(/^TokenInvalidError: .*byte for byte/);
    await context.close();
  });
});
