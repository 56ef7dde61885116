/**
 * Validation of options at the edge: every bad value becomes an `InvalidArgumentError` naming the
 * option and what it must be, before any request is made. Used by the tab (synchronously, in
 * `createTokenManager`) and again by the engine, which trusts no tab.
 *
 * Each rule is a pair `[test, what it must be]`, so the message is written once per kind of value
 * rather than once per option: this ships in the client entry, whose budget is 7.5 KB.
 */
import {
  DEFAULT_ENDPOINTS,
  MAX_EXPIRES_IN_SECONDS,
  MAX_POLL_INTERVAL_MS,
  MIN_LEEWAY_S,
  MIN_POLL_INTERVAL_MS,
  NAMESPACE_PATTERN,
  POLL_INTERVAL_MS,
  SESSION_ID_PATTERN,
  TEMPLATE_PATTERN,
} from '../protocol/constants.ts';
import { fail } from '../protocol/checks.ts';
import type { EngineConfig, Endpoints, OidcConfig, TokenRequest, VerifyOptions } from '../protocol/types.ts';

type Options = Record<string, unknown>;
type Rule = [test: (value: unknown) => boolean, expected: string];


/** `o[key]` when it passes the rule, `fallback` when it is undefined; else an error naming `option`. */
function get<T>(o: Options, key: string, fallback: T, [test, expected]: Rule, option = key): T {
  const value = o[key];
  return value === undefined ? fallback : test(value) ? (value as T) : fail(option, expected, value);
}

/**
 * A copy of the object without its undefined entries (`{ scope: undefined }` means the default), or
 * `{}` when absent; anything else, or an unknown key, is refused.
 */
function object(value: unknown, option: string, keys: readonly string[]): Options {
  if (value === undefined) return {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) fail(option, 'an object', value);
  const entries = Object.entries(value).filter(([key, v]) => (keys.includes(key) ? v !== undefined : fail(option, `an object with only ${keys.join(', ')}`, key)));
  return Object.fromEntries(entries);
}

const matching = (pattern: RegExp): Rule => [(v) => typeof v === 'string' && pattern.test(v), `a string matching ${pattern}`];
const oneOf = (...allowed: unknown[]): Rule => [(v) => allowed.includes(v), allowed.map((a) => JSON.stringify(a)).join(' or ')];
const integer = (min: number, max: number): Rule => [(v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max, `an integer from ${min} to ${max}`];
const boolean = oneOf(true, false);
// `typeof` first: '5' >= 0 is true. NaN fails both comparisons.
const LEEWAY: Rule = [(v) => typeof v === 'number' && v >= 0 && v < Infinity, 'a finite number ≥ 0'];
const SESSION_ID = matching(SESSION_ID_PATTERN);
/** A path of the origin: one leading '/', not '//' or '/\\' (a URL of another host), no '\\'. */
const PATH = matching(/^\/(?![/\\])[^\\]{0,511}$/);

/** Raises a leeway to the 15 s floor; rejects anything that is not a finite number ≥ 0. */
export function normalizeLeeway(value: unknown, option = 'leewayInSeconds'): number {
  return Math.max(MIN_LEEWAY_S, get({ value }, 'value', MIN_LEEWAY_S, LEEWAY, option));
}

/** Validates a session id (`/^[A-Za-z0-9_-]{1,128}$/`). */
export function validateSessionId(value: unknown, option = 'sessionId'): string {
  return SESSION_ID[0](value) ? (value as string) : fail(option, SESSION_ID[1], value);
}

/**
 * `value` as an http(s) URL (relative to `base` when given) that also passes `ok`; else an error
 * saying it must be an http(s) URL and then `more`. Only a string or a URL: anything else would be
 * stringified into a URL by accident.
 */
function url(value: unknown, option: string, base?: string, ok: (u: URL) => unknown = () => true, more = ''): URL {
  let u: URL | null = null;
  try {
    u = new URL(value as string, base);
  } catch {
    // reported below
  }
  return u && (typeof value === 'string' || value instanceof URL) && /^https?:$/.test(u.protocol) && ok(u) ? u : fail(option, `an http(s) URL${more}`, value);
}

/**
 * Paths under frontendApi, never URLs: the token must only ever go to frontendApi. The engine also
 * checks that each keeps the placeholders of its default (`{sid}`, `{template}`) when it starts;
 * a path without them rejects `ready`.
 */
function endpoints(value: unknown): Endpoints {
  const given = object(value, 'endpoints', Object.keys(DEFAULT_ENDPOINTS));
  for (const name of Object.keys(given)) get(given, name, 0, PATH, `endpoints.${name}`);
  return { ...DEFAULT_ENDPOINTS, ...given };
}

/** `verify`: its `issuer` and `algorithms` are checked by the engine when it starts (a bad one rejects `ready`). */
function verify(value: unknown, base: string): VerifyOptions | null {
  const v = object(value, 'verify', ['jwksUrl', 'issuer', 'algorithms']);
  return value === undefined ? null : { ...v, jwksUrl: url(v.jwksUrl, 'verify.jwksUrl', base).href };
}

/** The tab-level part of validated options. */
export interface TabOptions {
  sessionId: string | null;
  mode: 'auto' | 'shared' | 'local';
  workerUrl: URL | null;
  leewayInSeconds: number;
  fetchOrigins: string[];
}

/** Hosts where nothing but this machine can listen: the only ones an issuer may be plain http on. */
const LOOPBACK = /^(localhost|.+\.localhost|127(\.\d+){3}|\[::1\])$/;

/**
 * `oidc` (SPEC 11), checked and kept as given: the issuer must equal its discovery document's byte
 * for byte, and the redirect URIs the ones registered with the provider.
 */
function oidc(value: unknown, pageOrigin: string): OidcConfig {
  const v = object(value, 'oidc', ['issuer', 'clientId', 'redirectUri', 'scope', 'resource', 'dpop', 'postLogoutRedirectUri']);
  // issuer, clientId and redirectUri are required: undefined fails their checks.
  const check = (key: string, ok: (u: URL) => unknown, more: string) => url(v[key], `oidc.${key}`, undefined, ok, more);
  const onPage = (u: URL) => u.origin === pageOrigin;
  check('issuer', (u) => (u.protocol === 'https:' || LOOPBACK.test(u.hostname)) && !u.search && !u.hash, ' (https unless on loopback) without query or fragment');
  check('redirectUri', onPage, ` on ${pageOrigin}`);
  if (v.postLogoutRedirectUri !== undefined) check('postLogoutRedirectUri', onPage, ` on ${pageOrigin}`);
  get(v, 'clientId', '', matching(/^\S{1,512}$/), 'oidc.clientId') || fail('oidc.clientId', 'given', undefined);
  return { scope: 'openid offline_access', resource: null, dpop: null, postLogoutRedirectUri: null, ...v } as OidcConfig;
}

/** The worker-level part of the options: what the engine is started with. */
function engineOptions(o: Options, pageOrigin: string): EngineConfig {
  const config = o.oidc === undefined ? null : oidc(o.oidc, pageOrigin);
  const given = o.frontendApi ?? pageOrigin;
  // An absolute URL, or a path of the page's origin ('clerk.example.com' would resolve as a path);
  // stored without its trailing slashes. An OpenID Connect manager's is its issuer's origin.
  const frontendApi = config
    ? new URL(config.issuer).origin
    : url(given, 'frontendApi', pageOrigin, (u) => /^(https?:\/\/|\/(?![/\\]))/i.test(String(given)) && !u.search && !u.hash && !u.username && !u.password,
        ' or a path starting with a single "/", without query, fragment or credentials').href.replace(/\/+$/, '');
  return {
    frontendApi,
    namespace: get(o, 'namespace', '', matching(NAMESPACE_PATTERN)),
    persist: get(o, 'persist', true, boolean),
    pollIntervalMs: get(o, 'pollIntervalMs', POLL_INTERVAL_MS, integer(MIN_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS)),
    verify: verify(o.verify, pageOrigin),
    endpoints: endpoints(o.endpoints),
    // OpenID Connect requests go without cookies: discovery and JWKS often answer `*`.
    credentials: get<RequestCredentials>(o, 'credentials', config ? 'omit' : 'include', oneOf('include', 'same-origin', 'omit')),
    oidc: config,
  };
}

/**
 * Validates `createTokenManager` options. `pageOrigin` is the page's `location.origin`.
 *
 * @example
 * const { config, tab } = validateManagerOptions({ pollIntervalMs: 2000 }, location.origin);
 */
export function validateManagerOptions(options: unknown, pageOrigin: string): { config: EngineConfig; tab: TabOptions } {
  // An OpenID Connect manager speaks only to its issuer: the Clerk Frontend API's options are refused.
  const oidcSet = (options as Options | undefined)?.oidc !== undefined;
  const o = object(options, oidcSet ? 'createTokenManager options with oidc' : 'createTokenManager options', [
    'oidc', 'mode', 'namespace', 'workerUrl', 'persist', 'pollIntervalMs', 'leewayInSeconds', 'fetchOrigins', ...(oidcSet ? [] : ['frontendApi', 'sessionId', 'verify', 'endpoints', 'credentials']),
  ]);
  return {
    config: engineOptions(o, pageOrigin),
    tab: {
      sessionId: get(o, 'sessionId', null, SESSION_ID),
      mode: get(o, 'mode', 'auto', oneOf('auto', 'shared', 'local')),
      workerUrl: o.workerUrl === undefined ? null : url(o.workerUrl, 'workerUrl', pageOrigin),
      leewayInSeconds: normalizeLeeway(o.leewayInSeconds),
      fetchOrigins: get<unknown[]>(o, 'fetchOrigins', [], [Array.isArray, 'an array of origins']).map(
        (entry, i) => url(entry, `fetchOrigins[${i}]`, undefined, (u) => u.origin === String(entry).replace(/\/$/, ''), ' of an origin only').origin,
      ),
    },
  };
}

/**
 * Validates `getToken`/`peekToken` options into a `TokenRequest`; `tabLeeway` is the tab's own
 * leeway, used when the call names none.
 *
 * @example
 * normalizeGetTokenOptions({ template: 'api' }, 15) // { template: 'api', organizationId: null, … }
 * normalizeGetTokenOptions({ template: 'api' }, 15, true) // throws: an OpenID Connect manager has one token
 */
export function normalizeGetTokenOptions(options: unknown, tabLeeway: number = MIN_LEEWAY_S, oneToken = false): TokenRequest {
  // An OpenID Connect manager has one access token: none of the options that name another.
  const o = options === null ? {} : object(options, oneToken ? 'getToken options (oidc)' : 'getToken options', ['skipCache', 'leewayInSeconds', ...(oneToken ? [] : ['template', 'organizationId', 'expiresInSeconds'])]);
  return {
    template: get(o, 'template', null, matching(TEMPLATE_PATTERN)),
    // null and undefined both mean "no organization".
    organizationId: o.organizationId === null ? null : get(o, 'organizationId', null, SESSION_ID),
    expiresInSeconds: get(o, 'expiresInSeconds', null, integer(1, MAX_EXPIRES_IN_SECONDS)),
    skipCache: get(o, 'skipCache', false, boolean),
    leewayInSeconds: normalizeLeeway(o.leewayInSeconds === undefined ? tabLeeway : o.leewayInSeconds),
  };
}
