/**
 * The engine's config as it arrives from a tab's hello, checked field by field at the host's
 * boundary: the one place a worker or a leader validates it (the tab checked it with the full rules
 * of client/options.ts, whose messages explain every option; the host trusts no tab all the same).
 */
import { DEFAULT_ENDPOINTS, MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS, NAMESPACE_PATTERN } from '../protocol/constants.ts';
import { between, check, isBaseUrl, isFields, matches, type Fields } from '../protocol/checks.ts';
import type { EndpointConfig, EngineConfig, Endpoints, OidcConfig, VerifyOptions } from '../protocol/types.ts';

/** A path template under the origin: a single leading '/', and the placeholders of its default. */
function isPath(value: unknown, name: keyof Endpoints): boolean {
  return matches(/^\/(?![/\\])[^\\]{0,511}$/, value) && (DEFAULT_ENDPOINTS[name].match(/\{\w+\}/g) ?? []).every((p) => value.includes(p));
}

const isCredentials = (value: unknown): value is RequestCredentials => value === 'include' || value === 'same-origin' || value === 'omit';

/** A part of the config that the code using it checks field by field (loaded only when it is used): here, that it is an object. */
const part = <T>(value: unknown, field: string): T | null => (value == null ? null : check<T>(value, isFields(value), field));

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
    // Checked by the verifier and by the endpoint adapter, chunks of their own that only managers
    // using them load (before any token is taken or any request made).
    verify: part<VerifyOptions>(c.verify, 'verify'),
    endpoints,
    credentials: check(c.credentials, isCredentials(c.credentials), 'credentials'),
    // Checked by the OpenID Connect adapter, loaded only for such a manager (before anything is
    // asked of the provider).
    oidc: part<OidcConfig>(c.oidc, 'oidc'),
    endpoint: part<EndpointConfig>(c.endpoint, 'endpoint'),
  };
}

/** Names the first worker-level option in which two configs differ, or null when they agree. */
export function configMismatch(a: EngineConfig, b: EngineConfig): string | null {
  for (const key of ['frontendApi', 'oidc', 'endpoint', 'persist', 'pollIntervalMs', 'verify', 'endpoints', 'credentials'] as const) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return key;
  }
  return null;
}
