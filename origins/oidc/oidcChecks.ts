/**
 * The checks of what an OpenID Connect manager's tabs send (the rest of `oidc`, sign-in requests,
 * proof requests) and of the provider's values that are a matter of form (its endpoint URLs, a
 * refreshed ID token's identity claims), in the adapter's own chunk: a Clerk manager's worker never
 * carries them.
 */
import type { Claims, OidcConfig, ProofRequest, SignInRequest } from '../../protocol/types.ts';
import { check, fail, isBaseUrl, isFields, matches, type Fields } from '../../protocol/checks.ts';

const isUrl = (value: unknown): value is string => isBaseUrl(value, true);
const orNull = <T>(value: unknown, ok: (v: unknown) => boolean, field: string): T | null => (value === null ? null : check<T>(value, ok(value), field));

/** `value` when `ok`, else the `InvalidArgumentError` "{field} must be {expected}; got {value}". */
const must = <T>(value: unknown, ok: boolean, field: string, expected: string): T => (ok ? (value as T) : fail(field, expected, value));

/**
 * `oidc` of a config, checked field by field into a fresh copy. The tab checked the fields that name
 * the worker and where the browser is sent (issuer, clientId, the redirect URIs); `scope`,
 * `resource` and `dpop` are first checked here, so a bad one rejects `ready` with a message of its own.
 */
export function parseOidc(value: unknown): OidcConfig {
  const o = check<Fields>(value, isFields(value), 'oidc');
  return {
    issuer: check(o.issuer, isUrl(o.issuer), 'oidc.issuer'),
    clientId: check(o.clientId, matches(/^\S{1,512}$/, o.clientId), 'oidc.clientId'),
    redirectUri: check(o.redirectUri, typeof o.redirectUri === 'string' && URL.canParse(o.redirectUri), 'oidc.redirectUri'),
    scope: must(o.scope, typeof o.scope === 'string' && o.scope.split(' ').includes('openid'), 'oidc.scope', 'scopes separated by spaces, "openid" among them'),
    resource:
      o.resource === null
        ? null
        : must(
            o.resource,
            typeof o.resource === 'string' && URL.canParse(o.resource) && !o.resource.includes('#'),
            'oidc.resource',
            'an absolute URL without fragment',
          ),
    dpop: o.dpop === null ? null : must(o.dpop, typeof o.dpop === 'boolean', 'oidc.dpop', 'true or false'),
    postLogoutRedirectUri: orNull(o.postLogoutRedirectUri, (v) => typeof v === 'string' && URL.canParse(v), 'oidc.postLogoutRedirectUri'),
  };
}

/** A URL string (an http(s) URL the browser could navigate to). */
export function parseUrl(value: unknown, field: string): string {
  return check(value, typeof value === 'string' && value.length <= 8192 && isUrl(value.replace(/[?#].*$/s, '')), field);
}

const optionalText = (value: unknown, field: string): string | null => orNull(value ?? null, (v) => typeof v === 'string' && v.length <= 256, field);

/**
 * `returnTo` as the URL parser reads it against `origin`: the path, search and hash of a URL on that
 * origin, or null. A pattern over the string cannot stand in for this: the parser strips tabs and
 * newlines and reads `\` as `/` before it looks for a host, so `/<TAB>/evil.com` and `/\evil.com`
 * both name another host, while `/%09/evil.com` stays a path.
 *
 * @example
 * resolveReturnTo('/a?b=1#c', 'https://app.example.com');     // '/a?b=1#c'
 * resolveReturnTo('/\t/evil.com', 'https://app.example.com');  // null: https://evil.com/
 */
export function resolveReturnTo(value: unknown, origin: string): string | null {
  if (typeof value !== 'string' || value.length > 2048) return null;
  let url: URL;
  try {
    url = new URL(value, origin);
  } catch {
    return null;
  }
  return url.origin === origin ? url.pathname + url.search + url.hash : null;
}

/**
 * What `signIn()` sends: `returnTo` must resolve to a URL on the redirect page's origin (the page's
 * own), checked again here because the worker trusts no tab; it is kept as its path, search and hash.
 *
 * @example
 * parseSignInRequest({ prompt: null, loginHint: null, returnTo: '/orders' }, 'https://app.example.com/cb');
 */
export function parseSignInRequest(value: unknown, redirectUri: string): SignInRequest {
  const r = check<Fields>(value, isFields(value), 'signIn options');
  return {
    prompt: optionalText(r.prompt, 'prompt'),
    loginHint: optionalText(r.loginHint, 'loginHint'),
    returnTo:
      resolveReturnTo(r.returnTo, new URL(redirectUri).origin) ?? fail('returnTo', `a path of this app (a URL on ${new URL(redirectUri).origin})`, r.returnTo),
  };
}

/**
 * Whether a host (as `URL.hostname` gives it) is this machine: `localhost`, a `*.localhost` name,
 * 127.0.0.0/8 or `[::1]`.
 *
 * @example
 * isLoopbackHost(new URL('http://127.0.0.1:4000/').hostname); // true
 * isLoopbackHost(new URL('http://127.0.0.1.evil.com/').hostname); // false
 */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '[::1]') return true;
  // The URL parser writes every IPv4 host as four decimal numbers (0x7f.1 becomes 127.0.0.1); a
  // name such as 127.a.b.c is a domain, not an address, and is not loopback.
  const parts = hostname.split('.');
  return parts.length === 4 && parts[0] === '127' && parts.every((part) => part !== '' && String(Number(part)) === part);
}

/**
 * Whether a provider endpoint may be used: an absolute `https` URL, or `http` on a loopback host
 * (a provider on this machine, in development). Anything else — `javascript:`, `data:`, plain http
 * across the network, no URL at all — is refused, so a tab is never sent to it and no token
 * crosses it.
 *
 * @example
 * isProviderUrl('https://auth.example.com/token');   // true
 * isProviderUrl('http://localhost:4000/token');      // true
 * isProviderUrl('javascript:alert(1)');              // false
 */
export function isProviderUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 8192) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

/** What `tokens.fetch` asks a DPoP proof for. */
export function parseProofRequest(value: unknown): ProofRequest {
  const r = check<Fields>(value, isFields(value), 'proof request');
  return {
    htm: check(r.htm, matches(/^[A-Z]{1,16}$/, r.htm), 'htm'),
    htu: parseUrl(r.htu, 'htu'),
    token: check(r.token, typeof r.token === 'string' && r.token.length > 0 && r.token.length <= 65536, 'token'),
    nonce: orNull(r.nonce ?? null, (v) => typeof v === 'string' && v.length <= 1024, 'nonce'),
  };
}

/** An `aud` claim as a sorted list, so `"a"` and `["a"]` compare equal. */
const audiences = (aud: unknown): string => JSON.stringify((Array.isArray(aud) ? [...aud] : [aud]).map(String).sort());

/**
 * The first claim in which a refreshed ID token departs from the grant's (OpenID Connect Core
 * 12.2): `iss`, `sub` and `aud` must be the same; `azp` the same, absent when it was absent;
 * `auth_time`, where the original had one, the same (it is the time of the original
 * authentication, not of the refresh). Null when it keeps them all.
 *
 * @example
 * changedIdentityClaim(grant.claims, refreshedPayload); // null, or e.g. 'azp'
 */
export function changedIdentityClaim(original: Claims, refreshed: Readonly<Record<string, unknown>>): string | null {
  if (refreshed.iss !== original.iss) return 'iss';
  if (refreshed.sub !== original.sub) return 'sub';
  if (audiences(refreshed.aud) !== audiences(original.aud)) return 'aud';
  if (refreshed.azp !== original.azp) return 'azp';
  if (original.auth_time !== undefined && refreshed.auth_time !== original.auth_time) return 'auth_time';
  return null;
}
