/**
 * The engine's checks of what reaches it from a tab: the config, token requests, read reports and
 * session ids. The tab has already validated them with the full rules of options.ts, whose messages
 * explain every option to a developer; the engine trusts no tab all the same, and checks each value
 * against the same patterns and ranges here — briefly, because these checks ship in the worker,
 * whose budget is 15 KB, and a value that fails them did not come from tabtoken's own tab code.
 */
import {
  DEFAULT_ENDPOINTS,
  MAX_EXPIRES_IN_SECONDS,
  MAX_POLL_INTERVAL_MS,
  MIN_LEEWAY_S,
  MIN_POLL_INTERVAL_MS,
  NAMESPACE_PATTERN,
  ORGANIZATION_ID_PATTERN,
  SESSION_ID_PATTERN,
  TEMPLATE_PATTERN,
} from './constants.ts';
import { InvalidArgumentError, isRecord } from './errors.ts';
import type { EngineConfig, Endpoints, ReadReport, TokenRequest, VerifyOptions } from './types.ts';

export type Fields = Record<string, unknown>;

export const isFields: (value: unknown) => value is Fields = isRecord;

export function refuse(field: string, value: unknown): never {
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : isFields(value) ? 'an object' : String(value);
  throw new InvalidArgumentError(`${field} is not valid here; got ${shown}`);
}

/** `value` when `ok`, else an `InvalidArgumentError` naming `field`. */
export function check<T>(value: unknown, ok: boolean, field: string): T {
  return ok ? (value as T) : refuse(field, value);
}

export const matches = (pattern: RegExp, value: unknown): value is string => typeof value === 'string' && pattern.test(value);
const between = (value: unknown, min: number, max: number): value is number => Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;

/** An absolute http(s) URL without query, fragment or credentials, as the tab normalised it. */
export function isBaseUrl(value: unknown, trailingSlash: boolean): boolean {
  if (typeof value !== 'string') return false;
  try {
    const u = new URL(value);
    return /^https?:$/.test(u.protocol) && !u.search && !u.hash && !u.username && !u.password && (trailingSlash || !value.endsWith('/'));
  } catch {
    return false;
  }
}

/** A path template under the origin: a single leading '/', and the placeholders of its default. */
function isPath(value: unknown, name: keyof Endpoints): boolean {
  return matches(/^\/(?![/\\])[^\\]{0,511}$/, value) && (DEFAULT_ENDPOINTS[name].match(/\{\w+\}/g) ?? []).every((p) => value.includes(p));
}

function parseVerify(value: unknown): VerifyOptions | null {
  if (value === null) return null;
  const v = check<Fields>(value, isFields(value) && isBaseUrl(value.jwksUrl, true), 'verify');
  const out: VerifyOptions = { jwksUrl: v.jwksUrl as string };
  if (v.issuer !== undefined) out.issuer = check(v.issuer, typeof v.issuer === 'string' && v.issuer !== '', 'verify.issuer');
  if (v.algorithms !== undefined) {
    const ok = Array.isArray(v.algorithms) && v.algorithms.length > 0 && v.algorithms.every((a) => typeof a === 'string' && a !== '' && a.toLowerCase() !== 'none');
    out.algorithms = [...check<string[]>(v.algorithms, ok, 'verify.algorithms')];
  }
  return out;
}

/**
 * A config that arrived from a tab, checked field by field into a fresh copy.
 *
 * @example
 * const config = parseEngineConfig(hello.config); // InvalidArgumentError naming the field that is off
 */
export function parseEngineConfig(value: unknown): EngineConfig {
  const c = check<Fields>(value, isFields(value), 'config');
  const e = check<Fields>(c.endpoints, isFields(c.endpoints), 'endpoints');
  const endpoints = {} as Endpoints;
  for (const name of Object.keys(DEFAULT_ENDPOINTS) as (keyof Endpoints)[]) endpoints[name] = check(e[name], isPath(e[name], name), `endpoints.${name}`);
  return {
    frontendApi: check(c.frontendApi, isBaseUrl(c.frontendApi, false), 'frontendApi'),
    namespace: check(c.namespace, matches(NAMESPACE_PATTERN, c.namespace), 'namespace'),
    persist: check(c.persist, typeof c.persist === 'boolean', 'persist'),
    pollIntervalMs: check(c.pollIntervalMs, between(c.pollIntervalMs, MIN_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS), 'pollIntervalMs'),
    verify: parseVerify(c.verify),
    endpoints,
    credentials: check(c.credentials, c.credentials === 'include' || c.credentials === 'same-origin' || c.credentials === 'omit', 'credentials'),
    // Its fields are checked by the OpenID Connect adapter, loaded only for such a manager (before
    // anything is asked of the provider).
    oidc: c.oidc == null ? null : check(c.oidc, isFields(c.oidc), 'oidc'),
  };
}

/** Names the first worker-level option in which two configs differ, or null when they agree. */
export function configMismatch(a: EngineConfig, b: EngineConfig): string | null {
  for (const key of ['frontendApi', 'oidc', 'persist', 'pollIntervalMs', 'verify', 'endpoints', 'credentials'] as const) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return key;
  }
  return null;
}

/** A session id (`/^[A-Za-z0-9_-]{1,128}$/`). */
export function checkSessionId(value: unknown): string {
  return check(value, matches(SESSION_ID_PATTERN, value), 'sessionId');
}

/**
 * A `TokenRequest` that arrived from a tab, checked into a fresh copy, its leeway raised to the floor.
 * `oneToken` (an OpenID Connect manager): template, organizationId and expiresInSeconds must be null.
 *
 * @example
 * parseTokenRequest({ template: 'api', organizationId: null, expiresInSeconds: null, skipCache: false, leewayInSeconds: 15 })
 */
export function parseTokenRequest(value: unknown, oneToken = false): TokenRequest {
  const r = check<Fields>(value, isFields(value), 'request');
  const { template, organizationId, expiresInSeconds, skipCache, leewayInSeconds } = r;
  return {
    template: check(template, template === null || (!oneToken && matches(TEMPLATE_PATTERN, template)), 'template'),
    organizationId: check(organizationId, organizationId === null || (!oneToken && matches(ORGANIZATION_ID_PATTERN, organizationId)), 'organizationId'),
    expiresInSeconds: check(expiresInSeconds, expiresInSeconds === null || (!oneToken && between(expiresInSeconds, 1, MAX_EXPIRES_IN_SECONDS)), 'expiresInSeconds'),
    skipCache: check(skipCache, typeof skipCache === 'boolean', 'skipCache'),
    leewayInSeconds: Math.max(MIN_LEEWAY_S, check<number>(leewayInSeconds, typeof leewayInSeconds === 'number' && leewayInSeconds >= 0 && leewayInSeconds < Infinity, 'leewayInSeconds')),
  };
}

/** Tabs report reads in one batch per poll interval; more keys than this in one batch is not a tab. */
export const MAX_READS_PER_REPORT = 1000;

/** A batch of read reports; any malformed entry refuses the whole batch. */
export function parseReadReports(value: unknown): ReadReport[] {
  const reads = check<unknown[]>(value, Array.isArray(value) && value.length <= MAX_READS_PER_REPORT, 'reads');
  return reads.map((read) => {
    const r = check<Fields>(read, isFields(read) && typeof read.key === 'string', 'read report');
    return { key: r.key as string, request: parseTokenRequest(r.request) };
  });
}

