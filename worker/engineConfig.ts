/**
 * The engine's config as it arrives from a tab's hello, checked field by field at the host's
 * boundary: the one place a worker or a leader validates it (the tab checked it with the full rules
 * of client/options.ts, whose messages explain every option; the host trusts no tab all the same).
 */
import { DEFAULT_ENDPOINTS, MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS, NAMESPACE_PATTERN } from '../protocol/constants.ts';
import { between, check, isAsymmetricAlgorithm, isBaseUrl, isFields, isSecureUrl, isStaticHeader, matches, parsedUrl, type Fields } from '../protocol/checks.ts';
import type { EndpointConfig, EngineConfig, Endpoints, VerifyOptions } from '../protocol/types.ts';

/** A path template under the origin: a single leading '/', and the placeholders of its default. */
function isPath(value: unknown, name: keyof Endpoints): boolean {
  return matches(/^\/(?![/\\])[^\\]{0,511}$/, value) && (DEFAULT_ENDPOINTS[name].match(/\{\w+\}/g) ?? []).every((p) => value.includes(p));
}

const isCredentials = (value: unknown): value is RequestCredentials => value === 'include' || value === 'same-origin' || value === 'omit';

function parseVerify(value: unknown): VerifyOptions | null {
  if (value === null) return null;
  const v = check<Fields>(value, isFields(value), 'verify');
  const out: VerifyOptions = { jwksUrl: check(v.jwksUrl, isBaseUrl(v.jwksUrl, true), 'verify.jwksUrl') };
  if (v.issuer !== undefined) out.issuer = check(v.issuer, typeof v.issuer === 'string' && v.issuer !== '', 'verify.issuer');
  if (v.algorithms !== undefined) {
    const ok = Array.isArray(v.algorithms) && v.algorithms.length > 0 && v.algorithms.every(isAsymmetricAlgorithm);
    out.algorithms = [...check<string[]>(v.algorithms, ok, 'verify.algorithms')];
  }
  return out;
}

/**
 * An href the tab resolved: https (http on a loopback host, or on the page's own origin, where a
 * path resolves), without credentials or fragment.
 */
function isEndpointUrl(value: unknown): value is string {
  const u = parsedUrl(value);
  return !!u && /^https?:$/.test(u.protocol) && (isSecureUrl(u) || u.origin === globalThis.location?.origin) && u.href === value && !u.username && !u.password && !u.hash;
}

function parseEndpoint(value: unknown): EndpointConfig | null {
  if (value == null) return null;
  const e = check<Fields>(value, isFields(value), 'endpoint');
  const headers = check<Fields>(e.headers, isFields(e.headers), 'endpoint.headers');
  return {
    tokenUrl: check(e.tokenUrl, isEndpointUrl(e.tokenUrl), 'endpoint.tokenUrl'),
    method: check(e.method, e.method === 'POST' || e.method === 'GET', 'endpoint.method'),
    signOutUrl: e.signOutUrl === null ? null : check(e.signOutUrl, isEndpointUrl(e.signOutUrl), 'endpoint.signOutUrl'),
    // fromEntries defines own properties: a header name can never reach a prototype.
    headers: Object.fromEntries(Object.entries(headers).map(([name, v]) => [name, check<string>(v, isStaticHeader(name, v), 'endpoint.headers')])),
    credentials: check(e.credentials, isCredentials(e.credentials), 'endpoint.credentials'),
  };
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
    credentials: check(c.credentials, isCredentials(c.credentials), 'credentials'),
    // Its fields are checked by the OpenID Connect adapter, loaded only for such a manager (before
    // anything is asked of the provider).
    oidc: c.oidc == null ? null : check(c.oidc, isFields(c.oidc), 'oidc'),
    endpoint: parseEndpoint(c.endpoint),
  };
}

/** Names the first worker-level option in which two configs differ, or null when they agree. */
export function configMismatch(a: EngineConfig, b: EngineConfig): string | null {
  for (const key of ['frontendApi', 'oidc', 'endpoint', 'persist', 'pollIntervalMs', 'verify', 'endpoints', 'credentials'] as const) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return key;
  }
  return null;
}
