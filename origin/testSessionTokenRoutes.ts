/**
 * Test session tokens (seed 001): a test's server side creates one with the secret key, a browser
 * opens its `url` to get signed in as that user, and the token can be read back or revoked.
 *
 * Life of one token:
 *
 *   create (pending) ──GET url──▶ accepted ──revoke──▶ revoked (its session ends)
 *          └────────────────revoke──────────────────▶ revoked
 *
 * `url` is `{origin}/v1/test_session_tokens/accept?token={token}` where `token` is a 256-bit secret.
 */
import { requireSecretKey } from './backendAuth.ts';
import { CLIENT_COOKIE, readBody, readCookie, readParams, sendJson, setClientCookie } from './http.ts';
import { isIntegerInRange } from './options.ts';
import type { TestSessionTokenRecord } from './OriginState.ts';
import { OriginHttpError } from './OriginHttpError.ts';
import { integerParam, stringParam } from './params.ts';
import type { OriginContext, Route } from './routes.ts';

/** Bounds and default of `session_max_duration_in_seconds`. */
export const MIN_TEST_SESSION_DURATION_S = 60;
export const MAX_TEST_SESSION_DURATION_S = 604_800;
export const DEFAULT_TEST_SESSION_DURATION_S = 1800;

/** Path of the page that accepts a test session token. */
export const ACCEPT_PATH = '/v1/test_session_tokens/accept';

/** User ids end up in tokens and URLs; they follow the same URL-safe rule as every other id. */
const USER_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

function invalidParam(name: string, rule: string): OriginHttpError {
  return new OriginHttpError(422, 'form_param_invalid', `${name} is invalid`, `${name} ${rule}.`);
}

/** The token as the backend API shows it. */
function testSessionTokenView(record: TestSessionTokenRecord) {
  return {
    object: 'test_session_token',
    id: record.id,
    user_id: record.userId,
    token: record.token,
    status: record.status,
    url: record.url,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

/**
 * `redirect_url` resolved against the origin, or null when it leaves it. Resolving with the URL
 * parser (as a browser would follow it) is what catches `//evil.com`, `/\evil.com`, other schemes
 * and other ports, which a prefix check on the string would miss.
 */
export function sameOriginUrl(value: string, origin: string): string | null {
  try {
    const url = new URL(value, origin);
    return url.origin === origin ? url.href : null;
  } catch {
    return null;
  }
}

function requireTestSessionToken(ctx: OriginContext, id: string | undefined): TestSessionTokenRecord {
  const record = id === undefined ? null : ctx.state.testSessionToken(id);
  if (!record) throw new OriginHttpError(404, 'test_session_token_not_found', 'Test session token not found', 'No test session token with this id exists.');
  return record;
}

const create: Route = {
  method: 'POST',
  pattern: /^\/v1\/test_session_tokens$/,
  name: 'test_session_token_create',
  async handle(ctx, { req, res, origin }) {
    requireSecretKey(ctx, req);
    const params = await readParams(req, 'form');

    const userId = stringParam(params, 'user_id');
    if (!('value' in userId) || !USER_ID_PATTERN.test(userId.value)) throw invalidParam('user_id', `is required and must match ${String(USER_ID_PATTERN)}`);

    const duration = integerParam(params, 'session_max_duration_in_seconds');
    let sessionMaxDurationSeconds = DEFAULT_TEST_SESSION_DURATION_S;
    if (duration.present) {
      if (!('value' in duration) || !isIntegerInRange(duration.value, MIN_TEST_SESSION_DURATION_S, MAX_TEST_SESSION_DURATION_S)) {
        throw invalidParam('session_max_duration_in_seconds', `must be an integer from ${MIN_TEST_SESSION_DURATION_S} to ${MAX_TEST_SESSION_DURATION_S}`);
      }
      sessionMaxDurationSeconds = duration.value;
    }

    const redirect = stringParam(params, 'redirect_url');
    let redirectUrl = `${origin}/`;
    if (redirect.present) {
      const resolved = 'value' in redirect ? sameOriginUrl(redirect.value, origin) : null;
      if (resolved === null) throw invalidParam('redirect_url', `must be a URL on ${origin}`);
      redirectUrl = resolved;
    }

    const record = ctx.state.createTestSessionToken({
      userId: userId.value,
      sessionMaxDurationSeconds,
      redirectUrl,
      urlFor: (token) => `${origin}${ACCEPT_PATH}?token=${token}`,
    });
    sendJson(res, 200, testSessionTokenView(record));
  },
};

/**
 * The page a browser opens. It signs the browser in (creating its client and cookie if it has
 * none) and redirects; a token can be accepted once. Errors are HTML pages, since a person or a
 * test's browser opened the link.
 */
const accept: Route = {
  method: 'GET',
  pattern: /^\/v1\/test_session_tokens\/accept$/,
  name: 'test_session_token_accept',
  page: true,
  async handle(ctx, { req, res, url }) {
    const record = ctx.state.testSessionTokenBySecret(url.searchParams.get('token') ?? '');
    if (!record) throw new OriginHttpError(404, 'test_session_token_not_found', 'Test session token not found', 'This sign-in link is not valid.');
    if (record.status === 'revoked')
      throw new OriginHttpError(410, 'test_session_token_revoked', 'Test session token revoked', 'This sign-in link has been revoked.');
    if (record.status === 'accepted')
      throw new OriginHttpError(410, 'test_session_token_used', 'Test session token already used', 'This sign-in link has already been used.');
    const client = ctx.state.client(readCookie(req, CLIENT_COOKIE)) ?? ctx.state.createClient();
    ctx.state.acceptTestSessionToken(record, client);
    setClientCookie(res, client.id);
    // The URL carried a secret: keep it out of the Referer of whatever the redirect loads.
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Location', record.redirectUrl);
    res.statusCode = 302;
    res.end();
  },
};

const read: Route = {
  method: 'GET',
  pattern: /^\/v1\/test_session_tokens\/([^/]+)$/,
  name: 'test_session_token_get',
  async handle(ctx, { req, res, captures }) {
    requireSecretKey(ctx, req);
    sendJson(res, 200, testSessionTokenView(requireTestSessionToken(ctx, captures[0])));
  },
};

const revoke: Route = {
  method: 'POST',
  pattern: /^\/v1\/test_session_tokens\/([^/]+)\/revoke$/,
  name: 'test_session_token_revoke',
  async handle(ctx, { req, res, captures }) {
    requireSecretKey(ctx, req);
    await readBody(req);
    const record = requireTestSessionToken(ctx, captures[0]);
    ctx.state.revokeTestSessionToken(record);
    sendJson(res, 200, testSessionTokenView(record));
  },
};

/** The test session token routes; `accept` comes before `read`, whose pattern also matches its path. */
export const testSessionTokenRoutes: readonly Route[] = [create, accept, read, revoke];
