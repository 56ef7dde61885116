/**
 * The `endpoint` part of a config that arrived from a tab, checked field by field into a fresh copy
 * when the adapter is made (before any request): in the adapter's own chunk, so a worker that
 * speaks another origin carries none of it. The tab checked the option with the rules of
 * client/options.ts, whose messages explain it; the worker trusts no tab all the same.
 */
import { check, isFields, isSecureUrl, isStaticHeader, parsedUrl, type Fields } from '../../protocol/checks.ts';
import type { EndpointConfig } from '../../protocol/types.ts';

/**
 * An href the tab resolved: https (http on a loopback host, or on the page's own origin, where a
 * path resolves), without credentials or fragment.
 */
function isEndpointUrl(value: unknown): value is string {
  const u = parsedUrl(value);
  return (
    !!u &&
    /^https?:$/.test(u.protocol) &&
    (isSecureUrl(u) || u.origin === globalThis.location?.origin) &&
    u.href === value &&
    !u.username &&
    !u.password &&
    !u.hash
  );
}

/**
 * @example
 * const endpoint = parseEndpointConfig(config.endpoint); // InvalidArgumentError naming the field that is off
 */
export function parseEndpointConfig(value: unknown): EndpointConfig {
  const e = check<Fields>(value, isFields(value), 'endpoint');
  const headers = check<Fields>(e.headers, isFields(e.headers), 'endpoint.headers');
  const { credentials } = e;
  return {
    tokenUrl: check(e.tokenUrl, isEndpointUrl(e.tokenUrl), 'endpoint.tokenUrl'),
    method: check(e.method, e.method === 'POST' || e.method === 'GET', 'endpoint.method'),
    signOutUrl: e.signOutUrl === null ? null : check(e.signOutUrl, isEndpointUrl(e.signOutUrl), 'endpoint.signOutUrl'),
    // fromEntries defines own properties: a header name can never reach a prototype.
    headers: Object.fromEntries(Object.entries(headers).map(([name, v]) => [name, check<string>(v, isStaticHeader(name, v), 'endpoint.headers')])),
    credentials: check(credentials, credentials === 'include' || credentials === 'same-origin' || credentials === 'omit', 'endpoint.credentials'),
  };
}
