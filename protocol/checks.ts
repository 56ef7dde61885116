/**
 * The checks of what crosses from a tab to a worker: the arguments of the operation table (token
 * requests, read reports, session ids) and the small predicates the hosts' other checks are made of.
 * Both sides use them: the tab builds its requests with the full rules of client/options.ts, and the
 * host checks each value against the same patterns and ranges here, because it trusts no tab.
 */
import { MAX_EXPIRES_IN_SECONDS, MIN_LEEWAY_S, ORGANIZATION_ID_PATTERN, SESSION_ID_PATTERN, TEMPLATE_PATTERN } from './constants.ts';
import { InvalidArgumentError, isRecord } from './errors.ts';
import type { ProofRequest, ReadReport, TokenRequest } from './types.ts';

export type Fields = Record<string, unknown>;

export const isFields: (value: unknown) => value is Fields = isRecord;

/** How a refused value is shown in a message: strings quoted and cut, objects not spelled out. */
const shown = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : isFields(value) ? 'an object' : String(value));

/** Throws the `InvalidArgumentError` "{option} must be {expected}; got {value}". */
export function fail(option: string, expected: string, value: unknown): never {
  throw new InvalidArgumentError(`${option} must be ${expected}; got ${shown(value)}`);
}

export function refuse(field: string, value: unknown): never {
  throw new InvalidArgumentError(`${field} is not valid here; got ${shown(value)}`);
}

/** `value` when `ok`, else an `InvalidArgumentError` naming `field`. */
export function check<T>(value: unknown, ok: boolean, field: string): T {
  return ok ? (value as T) : refuse(field, value);
}

export const matches = (pattern: RegExp, value: unknown): value is string => typeof value === 'string' && pattern.test(value);
export const between = (value: unknown, min: number, max: number): value is number =>
  Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;

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

/** `value` parsed by the URL parser, or null: URLs are judged by it, never by a pattern. */
export function parsedUrl(value: unknown, base?: string): URL | null {
  try {
    return typeof value === 'string' ? new URL(value, base) : null;
  } catch {
    return null;
  }
}

/** Hosts where nothing but this machine can listen: the only ones plain http is accepted for. */
const LOOPBACK = /^(localhost|.+\.localhost|127(\.\d+){3}|\[::1\])$/;

/** https, or http on a loopback host (`localhost`, `*.localhost`, 127.0.0.0/8, `[::1]`). */
export const isSecureUrl = (u: URL): boolean => u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.test(u.hostname));

/** An http(s) origin as `URL.origin` spells it (`https://api.example.com`, no path or trailing slash). */
export function isOrigin(value: unknown): value is string {
  const u = parsedUrl(value);
  return !!u && /^https?:$/.test(u.protocol) && u.origin === value;
}

/**
 * A DPoP proof request for a URL that `tokens.fetch` may send the token to: `htu`, parsed by the URL
 * parser, has one of `origins` (the page's own and the calling tab's `fetchOrigins`). The rest of the
 * request is checked by the OpenID Connect adapter that signs it.
 */
export function checkProofTarget(value: unknown, origins: readonly string[]): ProofRequest {
  const r = check<Fields>(value, isFields(value), 'proof request');
  const u = parsedUrl(r.htu);
  if (!u || !/^https?:$/.test(u.protocol) || !origins.includes(u.origin)) {
    fail('proof htu', `a URL that tokens.fetch may send the token to (on ${origins.join(' or ')})`, r.htu);
  }
  return r as unknown as ProofRequest;
}

/**
 * A static header of the `endpoint` option (SPEC 13): a name of letters, digits and '-', never one
 * tabtoken sets or the browser owns (`Authorization`, `Cookie`, `DPoP`, in any letter case), and a
 * value of printable ASCII up to 1024 characters.
 */
export const isStaticHeader = (name: string, value: unknown): boolean =>
  /^[A-Za-z0-9-]{1,64}$/.test(name) && !/^(authorization|cookie|dpop)$/i.test(name) && matches(/^[\x20-\x7E]{0,1024}$/, value);

/**
 * A JWS algorithm a JWKS can verify: a name such as `RS256`, `ES256` or `EdDSA`, never `none` and
 * never an HMAC one (`HS256`…), in any letter case: a key set holds public keys, and a symmetric key
 * would let whoever holds it sign tokens.
 */
export const isAsymmetricAlgorithm = (value: unknown): boolean => matches(/^[\w+.-]{1,32}$/, value) && !/^(none|HS\d+)$/i.test(value);

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
  const { template, organizationId, expiresInSeconds, skipCache, leewayInSeconds, refused } = r;
  return {
    ...(refused !== undefined && { refused: check<string>(refused, skipCache === true && typeof refused === 'string' && refused.length <= 65_536, 'refused') }),
    template: check(template, template === null || (!oneToken && matches(TEMPLATE_PATTERN, template)), 'template'),
    organizationId: check(organizationId, organizationId === null || (!oneToken && matches(ORGANIZATION_ID_PATTERN, organizationId)), 'organizationId'),
    expiresInSeconds: check(
      expiresInSeconds,
      expiresInSeconds === null || (!oneToken && between(expiresInSeconds, 1, MAX_EXPIRES_IN_SECONDS)),
      'expiresInSeconds',
    ),
    skipCache: check(skipCache, typeof skipCache === 'boolean', 'skipCache'),
    leewayInSeconds: Math.max(
      MIN_LEEWAY_S,
      check<number>(leewayInSeconds, typeof leewayInSeconds === 'number' && leewayInSeconds >= 0 && leewayInSeconds < Infinity, 'leewayInSeconds'),
    ),
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
