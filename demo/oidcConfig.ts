/**
 * The OpenID provider's settings for this page, from the demo's server (`GET /demo/oidc-config`,
 * answered by `oidcProviderPlugin`). The answer is checked field by field before a manager is made
 * from it: the issuer an http(s) URL, the redirect URIs on this page's own origin.
 */

import { isObject } from './originActivity.ts';

/** What the page needs to create its OpenID Connect manager, and the resource route to try `tokens.fetch` on. */
export interface DemoOidcSettings {
  issuer: string;
  clientId: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  /** The DPoP-only resource route beside the provider, or null when none runs. */
  resourceUrl: string | null;
}

/** The demo's server answered something that is not the provider's settings. */
export class OidcConfigError extends Error {
  override readonly name = 'OidcConfigError';
  readonly code = 'oidc_config';
}

function httpUrl(value: unknown, field: string): URL {
  const parsed = typeof value === 'string' ? URL.parse(value) : null;
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) throw new OidcConfigError(`/demo/oidc-config: ${field} is not an http(s) URL`);
  return parsed;
}

function onThisOrigin(value: unknown, field: string, origin: string): string {
  if (httpUrl(value, field).origin !== origin) throw new OidcConfigError(`/demo/oidc-config: ${field} is not on ${origin}`);
  return value as string;
}

/**
 * The settings as the demo's server gives them, checked.
 *
 * @example
 * const settings = parseOidcSettings(await res.json(), location.origin);
 * createTokenManager({ oidc: { issuer: settings.issuer, clientId: settings.clientId, redirectUri: settings.redirectUri } });
 */
export function parseOidcSettings(body: unknown, pageOrigin: string): DemoOidcSettings {
  if (!isObject(body)) throw new OidcConfigError('/demo/oidc-config answered something that is not an object');
  const { issuer, clientId, redirectUri, postLogoutRedirectUri, resourceUrl } = body;
  httpUrl(issuer, 'issuer');
  if (typeof clientId !== 'string' || !/^\S{1,512}$/.test(clientId)) throw new OidcConfigError('/demo/oidc-config: clientId is not a client id');
  if (resourceUrl !== null) httpUrl(resourceUrl, 'resourceUrl');
  return {
    issuer: issuer as string,
    clientId,
    redirectUri: onThisOrigin(redirectUri, 'redirectUri', pageOrigin),
    postLogoutRedirectUri: onThisOrigin(postLogoutRedirectUri, 'postLogoutRedirectUri', pageOrigin),
    resourceUrl: resourceUrl as string | null,
  };
}

/**
 * Fetches and checks the settings; rejects with what went wrong (the provider may not have started).
 *
 * @example
 * const settings = await loadOidcSettings();
 */
export async function loadOidcSettings(): Promise<DemoOidcSettings> {
  const res = await fetch('/demo/oidc-config', { headers: { accept: 'application/json' }, cache: 'no-store' });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const said = isObject(body) && typeof body.error === 'string' ? `: ${body.error.slice(0, 200)}` : '';
    throw new OidcConfigError(`/demo/oidc-config answered ${res.status}${said}`);
  }
  return parseOidcSettings(body, location.origin);
}
