/**
 * Completes oidc-provider's development login and consent pages in a real browser page (playwright),
 * the way a person would: type any login and password, press "Sign-in", then "Continue" on the
 * consent page when it shows. For the end-to-end tests and the benchmark, whose tabs sign in through
 * the real authorization endpoint.
 */
import type { Page } from 'playwright-core';

export interface DevLoginOptions {
  /** The provider's issuer; the pages to complete are the ones on its origin. */
  issuer: string;
  /** The account to sign in as (it becomes the ID token's `sub`). Default `'alice'`. */
  login?: string;
  /** Any password; the development login accepts every one. */
  password?: string;
  /** How long the whole sign-in may take. Default 20 s. */
  timeoutMs?: number;
}

/**
 * Waits for the page to reach the provider, fills in its login form (and its consent form, when
 * asked), and resolves with the URL the page was sent back to, once it has left the provider's
 * origin. A page that never reaches the provider, or an error page from it, rejects with what the
 * page shows.
 *
 * @example
 * await page.goto(`${app}/`);
 * await page.click('#sign-in');            // the app calls tokens.signIn()
 * const back = await completeDevLogin(page, { issuer: op.issuer, login: 'alice' });
 * // back: `${app}/callback?code=…&state=…&iss=…`
 */
export async function completeDevLogin(page: Page, o: DevLoginOptions): Promise<string> {
  const provider = new URL(o.issuer).origin;
  const deadline = Date.now() + (o.timeoutMs ?? 20_000);
  const remaining = (): number => Math.max(1, deadline - Date.now());
  const onProvider = (): boolean => new URL(page.url()).origin === provider;
  let visited = false;

  while (Date.now() < deadline) {
    if (!onProvider()) {
      if (visited) return page.url();
      await page.waitForURL((url) => url.origin === provider, { timeout: remaining() });
      continue;
    }
    visited = true;
    // The provider answers with redirects until a page with a form (or an error page): once a
    // document of the provider has loaded, what it shows is all there is.
    await page.waitForLoadState('domcontentloaded', { timeout: remaining() });
    if (!onProvider()) continue;
    const prompts = page.locator('form input[name="prompt"]');
    const prompt = (await prompts.count()) > 0 ? await prompts.first().getAttribute('value') : null;
    if (prompt === null) {
      const text = (
        (await page
          .locator('body')
          .textContent({ timeout: 1000 })
          .catch(() => '')) ?? ''
      )
        .trim()
        .replace(/\s+/g, ' ')
        .slice(0, 300);
      throw new Error(`the provider shows no login or consent form at ${page.url()}: ${text}`);
    }
    const before = page.url();
    if (prompt === 'login') {
      await page.fill('input[name="login"]', o.login ?? 'alice');
      await page.fill('input[name="password"]', o.password ?? 'password');
    } else if (prompt !== 'consent') {
      throw new Error(`the provider asks for an interaction this helper does not know: ${prompt}`);
    }
    await Promise.all([
      page.waitForURL((url) => url.href !== before, { timeout: remaining(), waitUntil: 'commit' }),
      page.locator('form:has(input[name="prompt"]) button[type="submit"]').click({ timeout: remaining() }),
    ]);
  }
  throw new Error(`the sign-in at ${provider} did not finish in time (page at ${page.url()})`);
}
