/**
 * Validation of options at the edge: every bad value becomes an `InvalidArgumentError` naming the
 * option and what it must be, before any request is made. Used by the tab (synchronously, in
 * `createTokenManager`) and again by the engine, which trusts no tab.
 *
 * Each rule is a pair `[test, what it must be]`, so the message is written once per kind of value
 * rather than once per option: this ships in the client entry, whose budget is 5 KB.
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
} from './constants.ts';
import { InvalidArgumentError } from './errors.ts';
import type { EngineConfig, Endpoints, TokenRequest, VerifyOptions } from './types.ts';

type Options = Record<string, unknown>;
type Rule = [test: (value: unknown) => boolean, expected: string];

function fail(option: string, expected: string, value: unknown): never {
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : value && typeof value === 'object' ? 'an object' : String(value);
  throw new InvalidArgumentError(`${option} must be ${expected}; got ${shown}`);
}

/** `o[key]` when it passes the rule, `fallback` when it is undefined; else an error naming `option`. */
function get<T>(o: Options, key: string, fallback: T, [test, expected]: Rule, option = key): T {
  const value = o[key];
  return value === undefined ? fallback : test(value) ? (value as T) : fail(option, expected, value);
}

/** The object itself, or `{}` when absent; anything else, or an unknown key, is refused. */
function object(value: unknown, option: string, keys: readonly string[]): Options {
  if (value === undefined) return {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) fail(option, 'an object', value);
  for (const key of Object.keys(value)) if (!keys.includes(key)) fail(option, `an object with only ${keys.join(', ')}`, key);
  return value as Options;
}

const matching = (pattern: RegExp): Rule => [(v) => typeof v === 'string' && pattern.test(v), `a string matching ${pattern}`];
const oneOf = (...allowed: unknown[]): Rule => [(v) => allowed.includes(v), allowed.map((a) => JSON.stringify(a)).join(' or ')];
const integer = (min: number, max: number): Rule => [(v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max, `an integer from ${min} to ${max}`];
const boolean = oneOf(true, false);
// `typeof` first: '5' >= 0 is true. NaN fails both comparisons.
const LEEWAY: Rule = [(v) => typeof v === 'number' && v >= 0 && v < Infinity, 'a finite number ≥ 0'];
const SESSION_ID = matching(SESSION_ID_PATTERN);

/** Raises a leeway to the 15 s floor; rejects anything that is not a finite number ≥ 0. */
export function normalizeLeeway(value: unknown, option = 'leewayInSeconds'): number {
  return Math.max(MIN_LEEWAY_S, get({ value }, 'value', MIN_LEEWAY_S, LEEWAY, option));
}

/** Validates a session id (`/^[A-Za-z0-9_-]{1,128}$/`). */
export function validateSessionId(value: unknown, option = 'sessionId'): string {
  return SESSION_ID[0](value) ? (value as string) : fail(option, SESSION_ID[1], value);
}

function url(value: unknown, option: string, base?: string): URL {
  try {
    const parsed = new URL(value as string, base);
    // Only a string or a URL: anything else would be stringified into a URL by accident.
    if ((typeof value === 'string' || value instanceof URL) && /^https?:$/.test(parsed.protocol)) return parsed;
  } catch {
    // reported below
  }
  return fail(option, 'an http(s) URL', value);
}

function endpoints(value: unknown): Endpoints {
  const given = object(value, 'endpoints', Object.keys(DEFAULT_ENDPOINTS));
  const out: Endpoints = { ...DEFAULT_ENDPOINTS };
  for (const name of Object.keys(out) as (keyof Endpoints)[]) {
    // The placeholders a path must keep are those of its default.
    const needs = out[name].match(/\{\w+\}/g) ?? [];
    // A path, never a URL: the token must only ever go to frontendApi.
    out[name] = get(given, name, out[name], [(p) => typeof p === 'string' && /^\/(?![/\\])[^\\]{0,511}$/.test(p) && needs.every((n) => p.includes(n)),
      `a path starting with a single "/"${needs.length ? ` containing ${needs.join(' and ')}` : ''}`], `endpoints.${name}`);
  }
  return out;
}

function verify(value: unknown, base: string): VerifyOptions | null {
  if (value === undefined) return null;
  const v = object(value, 'verify', ['jwksUrl', 'issuer', 'algorithms']);
  const out: VerifyOptions = { jwksUrl: url(v.jwksUrl, 'verify.jwksUrl', base).href };
  const issuer = get<string | undefined>(v, 'issuer', undefined, [(i) => typeof i === 'string' && i !== '', 'a non-empty string'], 'verify.issuer');
  const algorithms = get<string[] | undefined>(v, 'algorithms', undefined, [(a) => Array.isArray(a) && a.length > 0 && a.every((x) => typeof x === 'string' && x !== '' && x.toLowerCase() !== 'none'),
    'a non-empty array of algorithm names (not "none")'], 'verify.algorithms');
  if (issuer !== undefined) out.issuer = issuer;
  if (algorithms) out.algorithms = [...algorithms];
  return out;
}

/** The tab-level part of validated options. */
export interface TabOptions {
  sessionId: string | null;
  mode: 'auto' | 'shared' | 'local';
  workerUrl: URL | null;
  leewayInSeconds: number;
  fetchOrigins: string[];
}

/** The worker-level part of the options: what the engine is started with. */
function engineOptions(o: Options, pageOrigin: string): EngineConfig {
  // An absolute URL, or a path of the page's origin; 'clerk.example.com' would resolve as a path.
  if (o.frontendApi !== undefined && !(typeof o.frontendApi === 'string' && /^(https?:\/\/|\/(?![/\\]))/i.test(o.frontendApi))) {
    fail('frontendApi', 'an absolute http(s) URL or a path starting with a single "/"', o.frontendApi);
  }
  const api = url(o.frontendApi === undefined ? pageOrigin : o.frontendApi, 'frontendApi', pageOrigin);
  if (api.search || api.hash || api.username || api.password) fail('frontendApi', 'a base URL without query, fragment or credentials', o.frontendApi);
  return {
    frontendApi: api.href.replace(/\/+$/, ''),
    namespace: get(o, 'namespace', '', matching(NAMESPACE_PATTERN)),
    persist: get(o, 'persist', true, boolean),
    pollIntervalMs: get(o, 'pollIntervalMs', POLL_INTERVAL_MS, integer(MIN_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS)),
    verify: verify(o.verify, pageOrigin),
    endpoints: endpoints(o.endpoints),
    credentials: get<RequestCredentials>(o, 'credentials', 'include', oneOf('include', 'same-origin', 'omit')),
  };
}

/**
 * Validates `createTokenManager` options. `pageOrigin` is the page's `location.origin`.
 *
 * @example
 * const { config, tab } = validateManagerOptions({ pollIntervalMs: 2000 }, location.origin);
 */
export function validateManagerOptions(options: unknown, pageOrigin: string): { config: EngineConfig; tab: TabOptions } {
  const o = object(options, 'createTokenManager options', [
    'frontendApi', 'sessionId', 'mode', 'namespace', 'workerUrl', 'persist', 'pollIntervalMs', 'leewayInSeconds', 'verify', 'endpoints', 'credentials', 'fetchOrigins',
  ]);
  return {
    config: engineOptions(o, pageOrigin),
    tab: {
      sessionId: get(o, 'sessionId', null, SESSION_ID),
      mode: get(o, 'mode', 'auto', oneOf('auto', 'shared', 'local')),
      workerUrl: o.workerUrl === undefined ? null : url(o.workerUrl, 'workerUrl', pageOrigin),
      leewayInSeconds: normalizeLeeway(o.leewayInSeconds),
      fetchOrigins: get<unknown[]>(o, 'fetchOrigins', [], [Array.isArray, 'an array of origins']).map((entry, i) => {
        const origin = url(entry, `fetchOrigins[${i}]`).origin;
        return origin === String(entry).replace(/\/$/, '') ? origin : fail(`fetchOrigins[${i}]`, 'an origin (scheme, host and port only)', entry);
      }),
    },
  };
}

/**
 * Validates `getToken`/`peekToken` options into a `TokenRequest`; `tabLeeway` is the tab's own
 * leeway, used when the call names none.
 *
 * @example
 * normalizeGetTokenOptions({ template: 'api' }, 15) // { template: 'api', organizationId: null, … }
 */
export function normalizeGetTokenOptions(options: unknown, tabLeeway: number = MIN_LEEWAY_S): TokenRequest {
  const o = options === null ? {} : object(options, 'getToken options', ['template', 'organizationId', 'expiresInSeconds', 'skipCache', 'leewayInSeconds']);
  return {
    template: get(o, 'template', null, matching(TEMPLATE_PATTERN)),
    // null and undefined both mean "no organization".
    organizationId: o.organizationId === null ? null : get(o, 'organizationId', null, SESSION_ID),
    expiresInSeconds: get(o, 'expiresInSeconds', null, integer(1, MAX_EXPIRES_IN_SECONDS)),
    skipCache: get(o, 'skipCache', false, boolean),
    leewayInSeconds: normalizeLeeway(o.leewayInSeconds === undefined ? tabLeeway : o.leewayInSeconds),
  };
}
