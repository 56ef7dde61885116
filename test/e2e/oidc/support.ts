/**
 * The OpenID Connect end-to-end tests' harness: the test server (Vite with the project's config)
 * serving the tab and redirect pages, a real oidc-provider on loopback behind its stoppable proxy,
 * Chromium through playwright-core, and the sign-in through the provider's own pages.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { completeDevLogin, startOidcProvider, type OidcProviderOptions, type RunningOidcProvider } from '../../../dev/oidc/index.ts';
import { newContext, startHarness, tabUrl, waitReady, type Harness, type TabFlags } from '../drills/support.ts';

export interface OidcHarness extends Harness {
  op: RunningOidcProvider;
  /** The redirect page, registered with the provider. */
  callback: string;
  /** Manager options of one test: its namespace, a 1 s poll interval, the provider. */
  options(namespace: string, extra?: { oidc?: object; [option: string]: unknown }): Record<string, unknown> & { namespace: string };
}

export async function startOidcHarness(provider: Partial<OidcProviderOptions> = {}): Promise<OidcHarness> {
  const h = await startHarness();
  const callback = `${h.base}/test/e2e/oidc/callback.html`;
  const op = await startOidcProvider({
    appOrigins: [h.base],
    redirectUris: [callback],
    postLogoutRedirectUris: [`${h.base}/test/e2e/oidc/callback.html?signed-out=1`],
    accessTokenTtlSeconds: 20,
    dpop: false,
    rotation: 'always',
    ...provider,
  });
  return {
    ...h,
    op,
    callback,
    options: (namespace, extra = {}) => ({
      namespace,
      pollIntervalMs: 1000,
      ...extra,
      oidc: { issuer: op.issuer, clientId: op.clientId, redirectUri: callback, ...(extra.oidc ?? {}) },
    }),
    async close() {
      await h.close();
      await op.stop();
    },
  };
}

/** A browser context whose pages — the redirect page too — know the test's manager options. */
export async function oidcContext(h: OidcHarness, options: Record<string, unknown>): Promise<BrowserContext> {
  const context = await newContext(h.browser);
  await context.addInitScript((o) => Object.assign(globalThis, { __tabtokenOidc: o }), options);
  return context;
}

/** Opens a tab page with the options (ready: signed in from the stored grant, or signed out). */
export async function openOidcTab(
  context: BrowserContext,
  h: OidcHarness,
  options: Record<string, unknown> & { namespace: string },
  flags: TabFlags = {},
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(tabUrl(h.base, options, flags));
  await waitReady(page);
  return page;
}

/**
 * Signs in from `page` as a person would: `signIn()`, the provider's login and consent pages, the
 * redirect page, and back to the tab page, signed in.
 */
export async function signInThrough(page: Page, h: OidcHarness, login = 'alice'): Promise<void> {
  const start = page.url();
  await page.evaluate(() => void drillTab().manager.signIn());
  await completeDevLogin(page, { issuer: h.op.issuer, login });
  await page.waitForURL((url) => url.href === start, { timeout: 20_000 });
  await waitReady(page);
  await page.waitForFunction(() => drillTab().manager.getSnapshot().status === 'ok', null, { timeout: 10_000 });
}

/** The grant the provider gave the page's current access token. */
export async function grantOf(page: Page, h: OidcHarness): Promise<string> {
  const token = await page.evaluate(() => drillTab().manager.getToken());
  const grantId = token ? h.op.events.grantOf(token) : null;
  if (!grantId) throw new Error('the provider knows no grant of this access token');
  return grantId;
}
