/**
 * Validation of options at the edge: every bad value becomes an `InvalidArgumentError` naming the
 * option, before any request is made. Used by the tab (synchronously, in `createTokenManager`) and
 * again by the engine, which trusts no tab. Written compactly on purpose: it ships in the client
 * entry, whose budget is 5 KB.
 */
import {
  DEFAULT_ENDPOINTS,
  MAX_EXPIRES_IN_SECONDS,
  MAX_POLL_INTERVAL_MS,
  MIN_LEEWAY_S,
  MIN_POLL_INTERVAL_MS,
  NAMESPACE_PATTERN,
  ORGANIZATION_ID_PATTERN,
  POLL_INTERVAL_MS,
  SESSION_ID_PATTERN,
  TEMPLATE_PATTERN,
} from './constants.ts';
import { InvalidArgumentError } from './errors.ts';
import type { EngineConfig, Endpoints, TokenRequest, VerifyOptions } from './types.ts';

type Options = Record<string, unknown>;

function fail(option: string, expected: string, value: unknown): never {
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value === 'object' && value !== null ? typeof value : String(value);
  throw new InvalidArgumentError(`${option} must be ${expected}; got ${shown}`);
}

function isObject(value: unknown): value is Options {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object itself, or `{}` when absent; anything else, or an unknown key, is refused. */
function object(value: unknown, option: string, keys: readonly string[]): Options {
  if (value === undefined) return {};
  if (!isObject(value)) fail(option, 'an object', value);
  for (const key of Object.keys(value)) if (!keys.includes(key)) fail(option, `free of unknown keys (${keys.join(', ')})`, key);
  return value;
}

/** `value` if it passes `ok`, `fallback` when undefined; else an error naming `option`. */
function check<T>(value: unknown, fallback: T, ok: (v: unknown) => boolean, option: string, expected: string): T {
  if (value === undefined) return fallback;
  if (!ok(value)) fail(option, expected, value);
  return value as T;
}

const matching = (pattern: RegExp) => (v: unknown) => typeof v === 'string' && pattern.test(v);
const oneOf = (...allowed: unknown[]) => (v: unknown) => allowed.includes(v);
const isInt = (min: number, max: number) => (v: unknown) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
const isLeeway = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const ID = '/^[A-Za-z0-9_-]{1,128}$/';

/** Raises a leeway to the 15 s floor; rejects anything that is not a finite number ≥ 0. */
export function normalizeLeeway(value: unknown, option = 'leewayInSeconds'): number {
  return Math.max(MIN_LEEWAY_S, check(value, MIN_LEEWAY_S, isLeeway, option, 'a finite number ≥ 0'));
}

/** Validates a session id (`/^[A-Za-z0-9_-]{1,128}$/`). */
export function validateSessionId(value: unknown, option = 'sessionId'): string {
  return check<string>(value, '', matching(SESSION_ID_PATTERN), option, `a string matching ${ID}`) || fail(option, 'a session id', value);
}

function url(value: unknown, option: string, base?: string): URL {
  let parsed: URL | null = null;
  try {
    if (typeof value === 'string' || value instanceof URL) parsed = new URL(value, base);
  } catch {
    // reported below
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol)) return fail(option, 'an http(s) URL', value);
  return parsed;
}

function endpoints(value: unknown): Endpoints {
  const names = Object.keys(DEFAULT_ENDPOINTS) as (keyof Endpoints)[];
  const given = object(value, 'endpoints', names);
  const out: Endpoints = { ...DEFAULT_ENDPOINTS };
  for (const name of names) {
    const needs = name === 'client' ? [] : name === 'templateToken' ? ['{sid}', '{template}'] : ['{sid}'];
    // A path, never a URL: the token must only ever go to frontendApi.
    out[name] = check(given[name], out[name], (p) => typeof p === 'string' && /^\/(?![/\\])[^\\]{0,511}$/.test(p) && needs.every((n) => p.includes(n)),
      `endpoints.${name}`, `a path starting with a single "/"${needs.length ? ` containing ${needs.join(' and ')}` : ''}`);
  }
  return out;
}

function verify(value: unknown, base: string): VerifyOptions | null {
  if (value === undefined) return null;
  const v = object(value, 'verify', ['jwksUrl', 'issuer', 'algorithms']);
  const out: VerifyOptions = { jwksUrl: url(v.jwksUrl, 'verify.jwksUrl', base).href };
  if (v.issuer !== undefined) out.issuer = check<string>(v.issuer, '', (i) => typeof i === 'string' && i.length > 0, 'verify.issuer', 'a non-empty string');
  if (v.algorithms !== undefined) {
    out.algorithms = [...check<string[]>(v.algorithms, [], (a) => Array.isArray(a) && a.length > 0 && a.every((x) => typeof x === 'string' && x !== '' && x.toLowerCase() !== 'none'),
      'verify.algorithms', 'a non-empty array of algorithm names (not "none")')];
  }
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

const MANAGER_KEYS = ['frontendApi', 'sessionId', 'mode', 'namespace', 'workerUrl', 'persist', 'pollIntervalMs', 'leewayInSeconds', 'verify', 'endpoints', 'credentials', 'fetchOrigins'];

/**
 * Validates `createTokenManager` options. `pageOrigin` is the page's `location.origin`.
 *
 * @example
 * const { config, tab } = validateManagerOptions({ pollIntervalMs: 2000 }, location.origin);
 */
export function validateManagerOptions(options: unknown, pageOrigin: string): { config: EngineConfig; tab: TabOptions } {
  const o = object(options, 'createTokenManager options', MANAGER_KEYS);
  const api = o.frontendApi === undefined ? new URL(pageOrigin) : url(o.frontendApi, 'frontendApi', pageOrigin);
  if (api.search || api.hash || api.username || api.password) fail('frontendApi', 'a base URL without query, fragment or credentials', o.frontendApi);
  const fetchOrigins = check<unknown[]>(o.fetchOrigins, [], Array.isArray, 'fetchOrigins', 'an array of origins').map((entry, i) => {
    const origin = url(entry, `fetchOrigins[${i}]`).origin;
    return origin === String(entry).replace(/\/$/, '') ? origin : fail(`fetchOrigins[${i}]`, 'an origin (scheme, host and port only)', entry);
  });
  return {
    config: {
      frontendApi: api.href.replace(/\/+$/, ''),
      namespace: check(o.namespace, '', matching(NAMESPACE_PATTERN), 'namespace', 'a string matching /^[A-Za-z0-9_-]{0,64}$/'),
      persist: check(o.persist, true, oneOf(true, false), 'persist', 'a boolean'),
      pollIntervalMs: check(o.pollIntervalMs, POLL_INTERVAL_MS, isInt(MIN_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS), 'pollIntervalMs', `an integer from ${MIN_POLL_INTERVAL_MS} to ${MAX_POLL_INTERVAL_MS}`),
      verify: verify(o.verify, pageOrigin),
      endpoints: endpoints(o.endpoints),
      credentials: check<RequestCredentials>(o.credentials, 'include', oneOf('include', 'same-origin', 'omit'), 'credentials', "'include', 'same-origin' or 'omit'"),
    },
    tab: {
      sessionId: o.sessionId === undefined ? null : validateSessionId(o.sessionId),
      mode: check(o.mode, 'auto', oneOf('auto', 'shared', 'local'), 'mode', "'auto', 'shared' or 'local'"),
      workerUrl: o.workerUrl === undefined ? null : url(o.workerUrl, 'workerUrl', pageOrigin),
      leewayInSeconds: normalizeLeeway(o.leewayInSeconds),
      fetchOrigins,
    },
  };
}

const GET_TOKEN_KEYS = ['template', 'organizationId', 'expiresInSeconds', 'skipCache', 'leewayInSeconds'];

/**
 * Validates `getToken`/`peekToken` options into a `TokenRequest`; `tabLeeway` is the tab's own
 * leeway, used when the call names none.
 *
 * @example
 * normalizeGetTokenOptions({ template: 'api' }, 15) // { template: 'api', organizationId: null, … }
 */
export function normalizeGetTokenOptions(options: unknown, tabLeeway: number = MIN_LEEWAY_S): TokenRequest {
  const o = options === null ? {} : object(options, 'getToken options', GET_TOKEN_KEYS);
  return {
    template: check(o.template, null, matching(TEMPLATE_PATTERN), 'template', 'a string matching /^[A-Za-z0-9_-]{1,64}$/'),
    organizationId: check(o.organizationId, null, (v) => v === null || matching(ORGANIZATION_ID_PATTERN)(v), 'organizationId', `null or a string matching ${ID}`),
    expiresInSeconds: check(o.expiresInSeconds, null, isInt(1, MAX_EXPIRES_IN_SECONDS), 'expiresInSeconds', `a positive integer ≤ ${MAX_EXPIRES_IN_SECONDS}`),
    skipCache: check(o.skipCache, false, oneOf(true, false), 'skipCache', 'a boolean'),
    leewayInSeconds: o.leewayInSeconds === undefined ? Math.max(MIN_LEEWAY_S, tabLeeway) : normalizeLeeway(o.leewayInSeconds),
  };
}

/** Names the first worker-level option in which two configs differ, or null when they agree. */
export function configMismatch(a: EngineConfig, b: EngineConfig): string | null {
  for (const key of ['frontendApi', 'persist', 'pollIntervalMs', 'verify', 'endpoints', 'credentials'] as const) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return key;
  }
  return null;
}

/**
 * Re-validates a config that arrived from a tab (the worker trusts no tab): the same rules as
 * `createTokenManager` options, so a malformed config is an `InvalidArgumentError`.
 */
export function parseEngineConfig(value: unknown): EngineConfig {
  if (!isObject(value) || typeof value.frontendApi !== 'string') fail('config', 'an engine config', value);
  const { frontendApi, namespace, persist, pollIntervalMs, verify: v, endpoints: e, credentials } = value;
  const origin = url(frontendApi, 'frontendApi').origin;
  return validateManagerOptions({ frontendApi, namespace, persist, pollIntervalMs, endpoints: e, credentials, ...(v === null ? {} : { verify: v }) }, origin).config;
}
