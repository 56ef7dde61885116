/**
 * The app session routes (SPEC sections 9 and 13): an app server of the most common shape, which
 * keeps the sign-in in a refresh cookie rotated at every call and hands out short-lived access
 * tokens from an endpoint of its own, plus one protected API route to spend them on. The state is
 * `AppSessions`; the tokens are signed with the origin's own key (the JWKS of
 * `/.well-known/jwks.json`).
 *
 *   POST /app/session/login   form user_id ──▶ 200 { user_id }, Set-Cookie __app_refresh=c1
 *   POST /app/session/token   Cookie c1    ──▶ 200 { access_token, token_type, expires_in }, Set-Cookie c2
 *   POST /app/session/logout  Cookie c2    ──▶ 200 {}, the cookie cleared, the family revoked
 *   GET  /app/api/me          Authorization: Bearer <access_token> ──▶ 200 { user_id }
 *
 * These are same-origin routes of the app: the cookie is `SameSite=Lax`, scoped to
 * `/app/session`, and CORS is the origin's (`allowedOrigins` only).
 */
import type { IncomingMessage } from 'node:http';
import { injectFaults, requireOriginUp } from './faultInjection.ts';
import { readBody, readCookie, readParams, sendJson } from './http.ts';
import { tokenIssuer } from './mintToken.ts';
import { OriginHttpError } from './OriginHttpError.ts';
import { stringParam } from './params.ts';
import type { Route } from './routes.ts';

/** Name of the refresh cookie. */
export const APP_REFRESH_COOKIE = '__app_refresh';
/** The only path the refresh cookie is sent to (and below it): the session routes, not the API. */
export const APP_SESSION_PATH = '/app/session';

const USER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** `Secure` over https only: over http a browser would drop a `Secure` cookie. */
function cookieAttributes(origin: string): string {
  return `Path=${APP_SESSION_PATH}; HttpOnly; SameSite=Lax${new URL(origin).protocol === 'https:' ? '; Secure' : ''}`;
}

function refreshCookie(value: string, origin: string): string {
  return `${APP_REFRESH_COOKIE}=${value}; ${cookieAttributes(origin)}`;
}

function clearedCookie(origin: string): string {
  return `${APP_REFRESH_COOKIE}=; Max-Age=0; ${cookieAttributes(origin)}`;
}

/** A 401 of the token route; a dead cookie is cleared with it, so the browser stops sending it. */
function signedOut(code: string, message: string, longMessage: string, origin: string | null): OriginHttpError {
  return new OriginHttpError(401, code, message, longMessage, origin === null ? {} : { 'Set-Cookie': clearedCookie(origin) });
}

/** `POST /app/session/login` (form or JSON `user_id`): starts a token family and sets its first refresh cookie. */
const login: Route = {
  method: 'POST',
  pattern: /^\/app\/session\/login$/,
  name: 'app_login',
  async handle(ctx, { req, res, origin }) {
    const userId = stringParam(await readParams(req, 'form'), 'user_id');
    if (!('value' in userId) || !USER_ID_PATTERN.test(userId.value)) {
      throw new OriginHttpError(422, 'form_param_invalid', 'user_id is invalid', `user_id must match ${String(USER_ID_PATTERN)}.`);
    }
    const { cookie } = ctx.state.app.login(userId.value);
    res.setHeader('Set-Cookie', refreshCookie(cookie, origin));
    sendJson(res, 200, { user_id: userId.value });
  },
};

/**
 * `POST /app/session/token`: an access token for the refresh cookie, which rotates. Faults and
 * `down` come first, as on the frontend token routes, so an origin in trouble rotates nothing.
 * The outage mode `missing_expired_token` is the Clerk protocol's and does not apply here.
 */
const token: Route = {
  method: 'POST',
  pattern: /^\/app\/session\/token$/,
  name: 'app_token',
  async handle(ctx, { req, res, origin }) {
    await injectFaults(ctx);
    requireOriginUp(ctx);
    await readBody(req); // the body means nothing here, but its size limit still applies
    const presented = readCookie(req, APP_REFRESH_COOKIE);
    const outcome = ctx.state.app.refresh(presented);
    const clear = presented === null ? null : origin;
    switch (outcome.kind) {
      case 'unknown':
        throw signedOut('unauthenticated', 'Not signed in', 'The request carries no refresh cookie this app handed out: log in first.', clear);
      case 'ended':
        throw signedOut('session_ended', 'Session ended', 'This sign-in has been logged out or revoked: log in again.', clear);
      case 'reused':
        throw signedOut(
          'refresh_reused',
          'Refresh cookie reused',
          'This refresh cookie had already been rotated away: the whole sign-in is revoked, as a stolen cookie would be. Log in again.',
          clear,
        );
      case 'rotated':
      case 'grace':
        break;
    }
    const lifetime = ctx.state.tokenLifetimeSeconds;
    const iat = Math.floor(ctx.options.now() / 1000);
    const claims = { sub: outcome.family.userId, sid: outcome.family.id, iat, exp: iat + lifetime, iss: tokenIssuer(ctx, origin) };
    const accessToken = await ctx.signer.sign(claims, iat);
    ctx.state.app.countToken();
    res.setHeader('Set-Cookie', refreshCookie(outcome.cookie, origin));
    sendJson(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: lifetime });
  },
};

/** `POST /app/session/logout`: revokes the cookie's family and clears the cookie. Answers 200 whatever the cookie, as signing out twice must. */
const logout: Route = {
  method: 'POST',
  pattern: /^\/app\/session\/logout$/,
  name: 'app_logout',
  async handle(ctx, { req, res, origin }) {
    await readBody(req);
    ctx.state.app.logout(readCookie(req, APP_REFRESH_COOKIE));
    res.setHeader('Set-Cookie', clearedCookie(origin));
    sendJson(res, 200, {});
  },
};

function unauthorized(code: string, message: string, longMessage: string, challenge: string): OriginHttpError {
  return new OriginHttpError(401, code, message, longMessage, { 'WWW-Authenticate': challenge });
}

const INVALID_TOKEN = 'Bearer error="invalid_token"';

/** The access token of `Authorization: Bearer …`, or null without one. */
function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return null;
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== 'bearer') return null;
  const value = header.slice(space + 1).trim();
  return value === '' ? null : value;
}

/**
 * `GET /app/api/me`: the protected API. 200 `{ user_id }` for an access token this origin signed
 * for a family that is still live and that the origin's own clock has not seen expire; 401
 * otherwise, with `WWW-Authenticate` as a resource server sends it (RFC 6750).
 */
const me: Route = {
  method: 'GET',
  pattern: /^\/app\/api\/me$/,
  name: 'app_me',
  async handle(ctx, { req, res }) {
    const raw = bearerToken(req);
    if (raw === null)
      throw unauthorized('unauthenticated', 'No access token', 'Send Authorization: Bearer <access_token> from POST /app/session/token.', 'Bearer');
    const verified = await ctx.signer.verifySignature(raw);
    const { sub, sid, exp } = verified?.payload ?? {};
    const family = typeof sid === 'string' ? ctx.state.app.family(sid) : null;
    if (!family || sub !== family.userId || typeof exp !== 'number') {
      throw unauthorized('token_invalid', 'Invalid access token', 'The access token is not one this app signed.', INVALID_TOKEN);
    }
    if (ctx.options.now() >= exp * 1000)
      throw unauthorized('token_expired', 'Access token expired', 'The access token has expired: get a new one.', INVALID_TOKEN);
    if (family.status === 'revoked')
      throw unauthorized('session_ended', 'Session ended', 'The sign-in of this access token has been logged out or revoked.', INVALID_TOKEN);
    sendJson(res, 200, { user_id: family.userId });
  },
};

/** The app session routes. */
export const appSessionRoutes: readonly Route[] = [login, token, logout, me];
