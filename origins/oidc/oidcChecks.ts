/**
 * The checks of what an OpenID Connect manager's tabs send (the rest of `oidc`, sign-in requests,
 * proof requests), in the adapter's own chunk: a Clerk manager's worker never carries them.
 */
import type { OidcConfig, ProofRequest, SignInRequest } from '../../protocol/types.ts';
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
    resource: o.resource === null ? null : must(o.resource, typeof o.resource === 'string' && URL.canParse(o.resource) && !o.resource.includes('#'), 'oidc.resource', 'an absolute URL without fragment'),
    dpop: o.dpop === null ? null : must(o.dpop, typeof o.dpop === 'boolean', 'oidc.dpop', 'true or false'),
    postLogoutRedirectUri: orNull(o.postLogoutRedirectUri, (v) => typeof v === 'string' && URL.canParse(v), 'oidc.postLogoutRedirectUri'),
  };
}

/** A URL string (an http(s) URL the browser could navigate to). */
export function parseUrl(value: unknown, field: string): string {
  return check(value, typeof value === 'string' && value.length <= 8192 && isUrl(value.replace(/[?#].*$/s, '')), field);
}

const optionalText = (value: unknown, field: string): string | null => orNull(value ?? null, (v) => typeof v === 'string' && v.length <= 256, field);

/** What `signIn()` sends: `returnTo` a path of the app with a single leading '/'. */
export function parseSignInRequest(value: unknown): SignInRequest {
  const r = check<Fields>(value, isFields(value), 'signIn options');
  return {
    prompt: optionalText(r.prompt, 'prompt'),
    loginHint: optionalText(r.loginHint, 'loginHint'),
    returnTo: check(r.returnTo, matches(/^\/(?![/\\])/, r.returnTo) && (r.returnTo as string).length <= 2048, 'returnTo'),
  };
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
