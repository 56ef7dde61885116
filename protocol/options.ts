/**
 * Validation of options at the edge: every bad value becomes an `InvalidArgumentError` naming the
 * option, before any request is made. Used by the tab (synchronously, in `createTokenManager`) and
 * again by the engine, which trusts no tab.
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
import type { EngineConfig, Endpoints, GetTokenOptions, TokenRequest, VerifyOptions } from './types.ts';

const CREDENTIALS: readonly string[] = ['include', 'same-origin', 'omit'];
const MODES: readonly string[] = ['auto', 'shared', 'local'];
const MANAGER_KEYS = new Set([
  'frontendApi', 'sessionId', 'mode', 'namespace', 'workerUrl', 'persist', 'pollIntervalMs',
  'leewayInSeconds', 'verify', 'endpoints', 'credentials', 'fetchOrigins',
]);
const GET_TOKEN_KEYS = new Set(['template', 'organizationId', 'expiresInSeconds', 'skipCache', 'leewayInSeconds']);

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}

function fail(option: string, expected: string, value: unknown): never {
  throw new InvalidArgumentError(`${option} must be ${expected}; got ${describe(value)}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(value: Record<string, unknown>, allowed: Set<string>, where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) throw new InvalidArgumentError(`${where} has no option named ${JSON.stringify(key)}`);
  }
}

/** Raises a leeway to the 15 s floor; rejects anything that is not a finite number ≥ 0. */
export function normalizeLeeway(value: unknown, option = 'leewayInSeconds'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(option, 'a finite number ≥ 0', value);
  return Math.max(MIN_LEEWAY_S, value);
}

/** Validates a session id (`/^[A-Za-z0-9_-]{1,128}$/`). */
export function validateSessionId(value: unknown, option = 'sessionId'): string {
  if (typeof value !== 'string' || !SESSION_ID_PATTERN.test(value)) fail(option, 'a string matching /^[A-Za-z0-9_-]{1,128}$/', value);
  return value;
}

function parseAbsoluteUrl(value: unknown, option: string, base?: string): URL {
  if (typeof value !== 'string' && !(value instanceof URL)) fail(option, 'a URL string', value);
  let url: URL;
  try {
    url = new URL(String(value), base);
  } catch {
    return fail(option, 'a valid URL', value);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(option, 'an http(s) URL', value);
  return url;
}

function validateEndpoints(value: unknown): Endpoints {
  if (value === undefined) return { ...DEFAULT_ENDPOINTS };
  if (!isPlainObject(value)) fail('endpoints', 'an object', value);
  checkKeys(value, new Set(Object.keys(DEFAULT_ENDPOINTS)), 'endpoints');
  const out: Endpoints = { ...DEFAULT_ENDPOINTS };
  for (const name of Object.keys(DEFAULT_ENDPOINTS) as (keyof Endpoints)[]) {
    const path = value[name];
    if (path === undefined) continue;
    // A path, never a URL: the token must only ever go to frontendApi.
    if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//') || path.includes('\\') || path.length > 512) {
      fail(`endpoints.${name}`, 'a path starting with a single "/"', path);
    }
    if (name !== 'client' && !path.includes('{sid}')) fail(`endpoints.${name}`, 'a path containing {sid}', path);
    if (name === 'templateToken' && !path.includes('{template}')) fail('endpoints.templateToken', 'a path containing {template}', path);
    out[name] = path;
  }
  return out;
}

function validateVerify(value: unknown, base: string): VerifyOptions | null {
  if (value === undefined) return null;
  if (!isPlainObject(value)) fail('verify', 'an object { jwksUrl, issuer?, algorithms? }', value);
  checkKeys(value, new Set(['jwksUrl', 'issuer', 'algorithms']), 'verify');
  const jwksUrl = parseAbsoluteUrl(value.jwksUrl, 'verify.jwksUrl', base).href;
  const out: VerifyOptions = { jwksUrl };
  if (value.issuer !== undefined) {
    if (typeof value.issuer !== 'string' || value.issuer.length === 0) fail('verify.issuer', 'a non-empty string', value.issuer);
    out.issuer = value.issuer;
  }
  if (value.algorithms !== undefined) {
    const algs = value.algorithms;
    if (!Array.isArray(algs) || algs.length === 0 || !algs.every((a) => typeof a === 'string' && a.length > 0 && a.toLowerCase() !== 'none')) {
      fail('verify.algorithms', 'a non-empty array of algorithm names (not "none")', algs);
    }
    out.algorithms = [...(algs as string[])];
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

/**
 * Validates `createTokenManager` options. `pageOrigin` is the page's `location.origin`.
 *
 * @example
 * const { config, tab } = validateManagerOptions({ pollIntervalMs: 2000 }, location.origin);
 */
export function validateManagerOptions(options: unknown, pageOrigin: string): { config: EngineConfig; tab: TabOptions } {
  if (options === undefined) options = {};
  if (!isPlainObject(options)) fail('options', 'an object', options);
  checkKeys(options, MANAGER_KEYS, 'createTokenManager options');
  const o = options as Record<string, unknown>;

  const frontendUrl = o.frontendApi === undefined ? new URL(pageOrigin) : parseAbsoluteUrl(o.frontendApi, 'frontendApi', pageOrigin);
  if (frontendUrl.search || frontendUrl.hash || frontendUrl.username || frontendUrl.password) {
    fail('frontendApi', 'a base URL without query, fragment or credentials', o.frontendApi);
  }
  const frontendApi = frontendUrl.href.replace(/\/+$/, '');

  const namespace = o.namespace === undefined ? '' : o.namespace;
  if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace)) fail('namespace', 'a string matching /^[A-Za-z0-9_-]{0,64}$/', namespace);

  const mode = o.mode === undefined ? 'auto' : o.mode;
  if (typeof mode !== 'string' || !MODES.includes(mode)) fail('mode', "'auto', 'shared' or 'local'", mode);

  const persist = o.persist === undefined ? true : o.persist;
  if (typeof persist !== 'boolean') fail('persist', 'a boolean', persist);

  const pollIntervalMs = o.pollIntervalMs === undefined ? POLL_INTERVAL_MS : o.pollIntervalMs;
  if (typeof pollIntervalMs !== 'number' || !Number.isInteger(pollIntervalMs) || pollIntervalMs < MIN_POLL_INTERVAL_MS || pollIntervalMs > MAX_POLL_INTERVAL_MS) {
    fail('pollIntervalMs', `an integer from ${MIN_POLL_INTERVAL_MS} to ${MAX_POLL_INTERVAL_MS}`, pollIntervalMs);
  }

  const leewayInSeconds = o.leewayInSeconds === undefined ? MIN_LEEWAY_S : normalizeLeeway(o.leewayInSeconds);

  const credentials = o.credentials === undefined ? 'include' : o.credentials;
  if (typeof credentials !== 'string' || !CREDENTIALS.includes(credentials)) fail('credentials', "'include', 'same-origin' or 'omit'", credentials);

  const sessionId = o.sessionId === undefined ? null : validateSessionId(o.sessionId);
  const workerUrl = o.workerUrl === undefined ? null : parseAbsoluteUrl(o.workerUrl, 'workerUrl', pageOrigin);

  let fetchOrigins: string[] = [];
  if (o.fetchOrigins !== undefined) {
    if (!Array.isArray(o.fetchOrigins)) fail('fetchOrigins', 'an array of origins', o.fetchOrigins);
    fetchOrigins = o.fetchOrigins.map((entry, i) => {
      const url = parseAbsoluteUrl(entry, `fetchOrigins[${i}]`);
      if (url.origin !== String(entry).replace(/\/$/, '')) fail(`fetchOrigins[${i}]`, 'an origin (scheme, host and port only)', entry);
      return url.origin;
    });
  }

  return {
    config: {
      frontendApi,
      namespace,
      persist,
      pollIntervalMs,
      verify: validateVerify(o.verify, pageOrigin),
      endpoints: validateEndpoints(o.endpoints),
      credentials: credentials as RequestCredentials,
    },
    tab: { sessionId, mode: mode as TabOptions['mode'], workerUrl, leewayInSeconds, fetchOrigins },
  };
}

/**
 * Validates `getToken`/`peekToken` options into a `TokenRequest`; `tabLeeway` is the tab's own
 * leeway, the floor for the call's.
 *
 * @example
 * normalizeGetTokenOptions({ template: 'api' }, 15) // { template: 'api', organizationId: null, … }
 */
export function normalizeGetTokenOptions(options: unknown, tabLeeway: number = MIN_LEEWAY_S): TokenRequest {
  if (options === undefined || options === null) {
    return { template: null, organizationId: null, expiresInSeconds: null, skipCache: false, leewayInSeconds: Math.max(MIN_LEEWAY_S, tabLeeway) };
  }
  if (!isPlainObject(options)) fail('getToken options', 'an object', options);
  checkKeys(options, GET_TOKEN_KEYS, 'getToken options');
  const { template, organizationId, expiresInSeconds, skipCache, leewayInSeconds } = options as GetTokenOptions & Record<string, unknown>;
  if (template !== undefined && (typeof template !== 'string' || !TEMPLATE_PATTERN.test(template))) {
    fail('template', 'a string matching /^[A-Za-z0-9_-]{1,64}$/', template);
  }
  if (organizationId !== undefined && organizationId !== null && (typeof organizationId !== 'string' || !ORGANIZATION_ID_PATTERN.test(organizationId))) {
    fail('organizationId', 'null or a string matching /^[A-Za-z0-9_-]{1,128}$/', organizationId);
  }
  if (expiresInSeconds !== undefined && (typeof expiresInSeconds !== 'number' || !Number.isSafeInteger(expiresInSeconds) || expiresInSeconds <= 0 || expiresInSeconds > MAX_EXPIRES_IN_SECONDS)) {
    fail('expiresInSeconds', `a positive integer ≤ ${MAX_EXPIRES_IN_SECONDS}`, expiresInSeconds);
  }
  if (skipCache !== undefined && typeof skipCache !== 'boolean') fail('skipCache', 'a boolean', skipCache);
  const leeway = leewayInSeconds === undefined ? tabLeeway : normalizeLeeway(leewayInSeconds);
  return {
    template: template ?? null,
    organizationId: organizationId ?? null,
    expiresInSeconds: expiresInSeconds ?? null,
    skipCache: skipCache ?? false,
    leewayInSeconds: Math.max(MIN_LEEWAY_S, leeway),
  };
}

/** Names the first worker-level option in which two configs differ, or null when they agree. */
export function configMismatch(a: EngineConfig, b: EngineConfig): string | null {
  if (a.frontendApi !== b.frontendApi) return 'frontendApi';
  if (a.persist !== b.persist) return 'persist';
  if (a.pollIntervalMs !== b.pollIntervalMs) return 'pollIntervalMs';
  if (JSON.stringify(a.verify) !== JSON.stringify(b.verify)) return 'verify';
  if (JSON.stringify(a.endpoints) !== JSON.stringify(b.endpoints)) return 'endpoints';
  if (a.credentials !== b.credentials) return 'credentials';
  return null;
}

/**
 * Re-validates a config that arrived from a tab (the worker trusts no tab): the same rules as
 * `createTokenManager` options, so a malformed config is an `InvalidArgumentError`.
 */
export function parseEngineConfig(value: unknown): EngineConfig {
  if (!isPlainObject(value) || typeof value.frontendApi !== 'string') fail('config', 'an engine config', value);
  const { frontendApi, namespace, persist, pollIntervalMs, verify, endpoints, credentials } = value;
  const origin = new URL(frontendApi).origin;
  const options = { frontendApi, namespace, persist, pollIntervalMs, endpoints, credentials, ...(verify === null ? {} : { verify }) };
  return validateManagerOptions(options, origin).config;
}
