/**
 * The engine's config as it arrives from a tab's hello, checked field by field at the host's
 * boundary: the one place a worker or a leader validates it (the tab checked it with the full rules
 * of client/options.ts, whose messages explain every option; the host trusts no tab all the same).
 */
import { DEFAULT_ENDPOINTS, MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS, NAMESPACE_PATTERN } from '../protocol/constants.ts';
import { between, check, isBaseUrl, isFields, matches, type Fields } from '../protocol/checks.ts';
import type { EngineConfig, Endpoints, VerifyOptions } from '../protocol/types.ts';

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
