/**
 * Validation of options at the edge: every bad value becomes an `InvalidArgumentError` naming the
 * option and what it must be, before any request is made — all of it thrown synchronously by
 * `createTokenManager` (SPEC 2, 10), none left for `ready`. The engine checks the config again when it
 * starts (worker/engineConfig.ts), because it trusts no tab.
 *
 * Each object of options is a table of rules, each rule a pair `[test, what it must be]`, so a
 * message is written once per kind of value rather than once per option: this ships in the client
 * entry, whose budget is 8 KB. URLs are judged by the URL parser, never by a pattern.
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
import { isRecord } from '../protocol/errors.ts';
import { fail, isAsymmetricAlgorithm, isSecureUrl, isStaticHeader, parsedUrl } from '../protocol/checks.ts';
import type { EndpointConfig, EngineConfig, Endpoints, OidcConfig, TokenRequest, VerifyOptions } from '../protocol/types.ts';

type Options = Record<string, unknown>;
type Rule = [test: (value: never) => unknown, expected: string];

/**
 * `value` (absent: `{}`) checked against a table of rules: an object of only the table's keys (an
 * undefined entry is not given), each given one passing its rule, each of `required` given. An
 * object is "{label} must be …"; a field "{prefix}{key} must be …".
 */
function fields(value: unknown, label: string, prefix: string, rules: Record<string, Rule>, required: readonly string[] = []): Options {
  if (value !== undefined && !isRecord(value)) fail(label, 'an object', value);
  const o = Object.fromEntries(
    Object.entries(value ?? {}).filter(
      ([key, v]) => v !== undefined && (Object.hasOwn(rules, key) || fail(label, `an object with only ${Object.keys(rules).join(', ')}`, key)),
    ),
  );
  for (const key in rules) {
    const v = o[key];
    if (v === undefined ? required.includes(key) : !rules[key]![0](v as never)) fail(prefix + key, rules[key]![1], v);
  }
  return o;
}

const matching = (pattern: RegExp): Rule => [(v) => typeof v === 'string' && pattern.test(v), `a string matching ${pattern}`];
const oneOf = (...allowed: unknown[]): Rule => [(v) => allowed.includes(v), allowed.map((a) => JSON.stringify(a)).join(' or ')];
const integer = (min: number, max: number): Rule => [(v: number) => Number.isSafeInteger(v) && v >= min && v <= max, `an integer from ${min} to ${max}`];
const boolean = oneOf(true, false);
const CREDENTIALS = oneOf('include', 'same-origin', 'omit');
/** Checked by a table of its own. */
const OBJECT: Rule = [() => 1, ''];
// `typeof` first: '5' >= 0 is true. NaN fails both comparisons.
const LEEWAY: Rule = [(v) => typeof v === 'number' && v >= 0 && v < Infinity, 'a finite number ≥ 0'];
const SESSION_ID = matching(SESSION_ID_PATTERN);
const SECURE = 'an https URL (http on loopback)';

/** An http(s) URL (relative to `base` when given: a string or a URL) that passes `ok`. */
function isUrl(value: unknown, ok: (u: URL) => unknown = () => 1, base?: string): unknown {
  const u = parsedUrl(value instanceof URL ? value.href : value, base);
  return u && /^https?:$/.test(u.protocol) && ok(u);
}
const url = (ok?: (u: URL) => unknown, expected = 'an http(s) URL', base?: string): Rule => [(v) => isUrl(v, ok, base), expected];
const href = (value: unknown, base?: string): string => new URL(value instanceof URL ? value.href : (value as string), base).href;

/**
 * An absolute http(s) URL that passes `ok`, or a path with a single leading '/' on the page's origin
 * (`frontendApi`, `endpoint`'s URLs). The URL parser decides what a path is: '//evil.com',
 * '/\evil.com' and '/<TAB>/evil.com', which it reads as another host, leave the page's origin and are
 * refused. Credentials in a URL, or a fragment, are refused too.
 */
const located = (pageOrigin: string, ok: (u: URL, path: boolean) => unknown, expected: string): Rule => [
  (v: string) => {
    const path = v?.[0] === '/';
    return isUrl(v, (u) => (!path || u.origin === pageOrigin) && !u.username && !u.password && !u.hash && ok(u, path), path ? pageOrigin : undefined);
  },
  expected,
];

/** A leeway that passed `LEEWAY`, raised to the 15 s floor (raise-only). */
const raised = (leeway: unknown = MIN_LEEWAY_S): number => Math.max(MIN_LEEWAY_S, leeway as number);

/** Validates a session id (`/^[A-Za-z0-9_-]{1,128}$/`). */
export function validateSessionId(value: unknown, option = 'sessionId'): string {
  return fields({ [option]: value }, '', '', { [option]: SESSION_ID }, [option])[option] as string;
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
  // An OpenID Connect or endpoint manager speaks only to its issuer or endpoint: the Clerk Frontend
  // API's options are refused with it, and so is the other kind.
  const kind = (options as Options | undefined)?.oidc !== undefined ? 'oidc' : (options as Options | undefined)?.endpoint !== undefined ? 'endpoint' : '';
  const tabRules: Record<string, Rule> = {
    mode: oneOf('auto', 'shared', 'local'),
    namespace: matching(NAMESPACE_PATTERN),
    workerUrl: url(undefined, undefined, pageOrigin),
    persist: boolean,
    pollIntervalMs: integer(MIN_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS),
    leewayInSeconds: LEEWAY,
    fetchOrigins: [Array.isArray, 'an array of origins'],
  };
  const o = fields(
    options,
    `createTokenManager options${kind && ` with ${kind}`}`,
    '',
    kind === 'oidc'
      ? { ...tabRules, oidc: OBJECT }
      : kind
        ? { ...tabRules, endpoint: OBJECT, verify: OBJECT }
        : {
            ...tabRules,
            frontendApi: located(pageOrigin, (u) => !u.search, 'an http(s) URL or "/path" without query, fragment or credentials'),
            sessionId: SESSION_ID,
            verify: OBJECT,
            endpoints: OBJECT,
            credentials: CREDENTIALS,
          },
  );

  const onPage: Rule = url((u) => u.origin === pageOrigin, `a URL on ${pageOrigin}`);
  // The issuer must equal its discovery document's byte for byte, and the redirect URIs the ones
  // registered with the provider: all kept as given.
  const oidc =
    kind === 'oidc'
      ? ({
          scope: 'openid offline_access',
          resource: null,
          dpop: null,
          postLogoutRedirectUri: null,
          ...fields(
            o.oidc,
            'oidc',
            'oidc.',
            {
              issuer: url((u) => isSecureUrl(u) && !u.search && !u.hash, `${SECURE} without query or fragment`),
              clientId: matching(/^\S{1,512}$/),
              redirectUri: onPage,
              scope: [(s: string) => typeof s === 'string' && s.split(' ').includes('openid'), 'scopes including "openid"'],
              resource: [(r: string) => parsedUrl(r) && !r.includes('#'), 'an absolute URL without fragment'],
              dpop: boolean,
              postLogoutRedirectUri: onPage,
            },
            ['issuer', 'clientId', 'redirectUri'],
          ),
        } as OidcConfig)
      : null;

  // https, or plain http only on loopback, where nothing but this machine listens (SPEC 13).
  const ownUrl = located(pageOrigin, (u, path) => path || isSecureUrl(u), `${SECURE} or "/path" without credentials or fragment`);
  const e =
    kind === 'endpoint'
      ? fields(
          o.endpoint,
          'endpoint',
          'endpoint.',
          { tokenUrl: ownUrl, method: oneOf('POST', 'GET'), signOutUrl: ownUrl, headers: [isRecord, 'an object'], credentials: CREDENTIALS },
          ['tokenUrl'],
        )
      : null;
  const headers = Object.fromEntries(
    Object.entries(e?.headers ?? {}).filter(
      ([name, value]) =>
        value !== undefined &&
        (isStaticHeader(name, value) ||
          fail(`endpoint.headers.${name.slice(0, 64)}`, 'printable ASCII (≤ 1024) named [A-Za-z0-9-], not Authorization, Cookie or DPoP', value)),
    ),
  );
  const endpoint =
    e &&
    ({
      method: 'POST',
      credentials: 'include',
      ...e,
      tokenUrl: href(e.tokenUrl, pageOrigin),
      signOutUrl: e.signOutUrl === undefined ? null : href(e.signOutUrl, pageOrigin),
      headers,
    } as EndpointConfig);

  const v =
    o.verify === undefined
      ? null
      : fields(
          o.verify,
          'verify',
          'verify.',
          {
            jwksUrl: url(undefined, undefined, pageOrigin),
            issuer: [(i) => typeof i === 'string' && i !== '', 'a non-empty string'],
            algorithms: [(a: unknown[]) => Array.isArray(a) && a.length > 0 && a.every(isAsymmetricAlgorithm), 'asymmetric JWS algorithms (not none or HS*)'],
          },
          ['jwksUrl'],
        );
  // Paths under frontendApi, never URLs (the token must only ever go to frontendApi), each keeping
  // the placeholders of its default, which the engine fills in.
  const endpoints = fields(
    o.endpoints,
    'endpoints',
    'endpoints.',
    Object.fromEntries(
      Object.entries(DEFAULT_ENDPOINTS).map(([name, path]) => {
        const holes = path.match(/\{\w+\}/g) ?? [];
        return [
          name,
          [
            (p: string) => /^\/(?![/\\])[^\\]{0,511}$/.test(p) && holes.every((h) => p.includes(h)),
            `a "/path"${holes.length ? ` with ${holes.join(' and ')}` : ''}`,
          ],
        ];
      }),
    ),
  );

  return {
    config: {
      // An OpenID Connect manager's is its issuer's origin, an endpoint manager's its tokenUrl's;
      // stored without its trailing slashes.
      frontendApi:
        oidc || endpoint ? new URL(oidc ? oidc.issuer : endpoint!.tokenUrl).origin : href(o.frontendApi ?? pageOrigin, pageOrigin).replace(/\/+$/, ''),
      namespace: (o.namespace ?? '') as string,
      persist: o.persist !== false,
      pollIntervalMs: (o.pollIntervalMs ?? POLL_INTERVAL_MS) as number,
      verify: v && ({ ...v, jwksUrl: href(v.jwksUrl, pageOrigin) } as VerifyOptions),
      endpoints: { ...DEFAULT_ENDPOINTS, ...endpoints } as Endpoints,
      // OpenID Connect requests go without cookies (discovery and JWKS often answer `*`); an
      // endpoint's cookie is its credential.
      credentials: endpoint ? endpoint.credentials : ((o.credentials ?? (oidc ? 'omit' : 'include')) as RequestCredentials),
      oidc,
      endpoint,
    },
    tab: {
      sessionId: (o.sessionId ?? null) as string | null,
      mode: (o.mode ?? 'auto') as TabOptions['mode'],
      workerUrl: o.workerUrl === undefined ? null : new URL(href(o.workerUrl, pageOrigin)),
      leewayInSeconds: raised(o.leewayInSeconds),
      fetchOrigins: ((o.fetchOrigins ?? []) as unknown[]).map((entry, i) =>
        isUrl(entry, (u) => u.origin === String(entry).replace(/\/$/, ''))
          ? new URL(entry as string).origin
          : fail(`fetchOrigins[${i}]`, 'an http(s) origin', entry),
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
 * normalizeGetTokenOptions({ template: 'api' }, 15, true) // throws: an OpenID Connect or endpoint manager has one token
 */
export function normalizeGetTokenOptions(options: unknown, tabLeeway: number = MIN_LEEWAY_S, oneToken = false): TokenRequest {
  // An OpenID Connect or endpoint manager has one token: none of the options that name another.
  const o = fields(options ?? {}, oneToken ? 'getToken options (one token per oidc or endpoint manager)' : 'getToken options', '', {
    skipCache: boolean,
    leewayInSeconds: LEEWAY,
    ...(!oneToken && {
      template: matching(TEMPLATE_PATTERN),
      // null and undefined both mean "no organization".
      organizationId: [(v) => v === null || SESSION_ID[0](v), SESSION_ID[1]],
      expiresInSeconds: integer(1, MAX_EXPIRES_IN_SECONDS),
    }),
  });
  return {
    template: null,
    organizationId: null,
    expiresInSeconds: null,
    skipCache: false,
    ...o,
    leewayInSeconds: raised(o.leewayInSeconds ?? tabLeeway),
  } as TokenRequest;
}
