/**
 * A second token protocol for the benchmarks only (the shipped development origin does not speak
 * it): the refresh-token protocol of Supabase Auth (GoTrue), mounted on the development origin by
 * bench/vite.config.ts, so the benchmarks can run the real `@supabase/auth-js` client unmodified
 * side by side with tabtoken.
 *
 * - `POST /auth/v1/token?grant_type=password` `{ email, password }` signs in (any non-empty pair:
 *   this is a development origin) and starts a session;
 * - `POST /auth/v1/token?grant_type=refresh_token` `{ refresh_token }` mints a new access token;
 * - `GET /auth/v1/user` (Bearer access token) and `POST /auth/v1/logout` (Bearer access token).
 *
 * Answers are `{ access_token, token_type: 'bearer', expires_in, expires_at, refresh_token, user }`,
 * errors `{ code, msg }` with `X-Supabase-Api-Version: 2024-01-01`, the shapes the client parses.
 * Sessions are the origin's own (so outage mode `down`, injected faults and ending a session apply),
 * but the mints are counted apart from `stats.mints`: `requests.supabase_token` counts every token
 * request and `requests.supabase_refresh` the 2xx refresh-token grants, so tabtoken's `mints` keep
 * meaning "what tabtoken cost the origin".
 *
 * Refresh tokens rotate (each grant returns a new one), but an older token of a live session stays
 * usable. Supabase Auth only tolerates reuse for a short interval and then revokes the session; being
 * lenient here means a benchmark never signs the peer out for a race between its tabs, so its mint
 * counts are a lower bound of what it would cost a real Supabase project.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { injectFaults, requireOriginUp } from '../../origin/faultInjection.ts';
import { readParams, sendJson } from '../../origin/http.ts';
import { randomSecret } from '../../origin/ids.ts';
import { requireMintableSession } from '../../origin/mintToken.ts';
import { SIGN_IN_SESSION_MAX_DURATION_S, type OriginState, type Session } from '../../origin/OriginState.ts';
import { OriginHttpError } from '../../origin/OriginHttpError.ts';
import { stringParam } from '../../origin/params.ts';
import type { OriginContext, Route } from '../../origin/routes.ts';

/** The API version the client reads error codes under (`code` instead of `error_code`). */
const API_VERSION = '2024-01-01';

/** Refresh tokens remembered per origin; the oldest are forgotten past this many. */
export const MAX_REFRESH_TOKENS = 100_000;

/** A user as Supabase Auth describes one (the fields the client and apps read). */
interface AuthUser {
  id: string;
  aud: 'authenticated';
  role: 'authenticated';
  email: string;
  email_confirmed_at: string;
  phone: string;
  confirmed_at: string;
  last_sign_in_at: string;
  app_metadata: { provider: 'email'; providers: ['email'] };
  user_metadata: Record<string, never>;
  identities: [];
  created_at: string;
  updated_at: string;
  is_anonymous: false;
}

interface RefreshGrant {
  sessionId: string;
  email: string;
}

/**
 * Refresh tokens by origin state, so two origins in one process (two Vite servers, tests) never
 * share them. Kept beside the state rather than in it: this protocol is an add-on of the switch.
 */
const grantsByState = new WeakMap<OriginState, Map<string, RefreshGrant>>();

function grantsOf(ctx: OriginContext): Map<string, RefreshGrant> {
  let grants = grantsByState.get(ctx.state);
  if (!grants) {
    grants = new Map();
    grantsByState.set(ctx.state, grants);
  }
  return grants;
}

/** Issues a new refresh token; a Map keeps insertion order, so the first key is the oldest. */
function issueRefreshToken(ctx: OriginContext, grant: RefreshGrant): string {
  const grants = grantsOf(ctx);
  const token = randomSecret();
  grants.set(token, grant);
  if (grants.size > MAX_REFRESH_TOKENS) {
    const oldest = grants.keys().next().value;
    if (oldest !== undefined) grants.delete(oldest);
  }
  return token;
}

function authError(status: number, code: string, msg: string): OriginHttpError {
  return new OriginHttpError(status, code, msg);
}

/** Answers an error in the shape the client parses; anything else is the dispatcher's 500. */
function sendAuthError(res: ServerResponse, error: OriginHttpError): void {
  sendJson(res, error.status, { code: error.code, error_code: error.code, msg: error.message }, { ...error.headers, 'X-Supabase-Api-Version': API_VERSION });
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString();
}

function userView(ctx: OriginContext, session: Session, email: string): AuthUser {
  const created = isoSeconds(ctx.state.ensureUser(session.userId).createdAt);
  const signedIn = isoSeconds(session.createdAt);
  return {
    id: session.userId,
    aud: 'authenticated',
    role: 'authenticated',
    email,
    email_confirmed_at: created,
    phone: '',
    confirmed_at: created,
    last_sign_in_at: signedIn,
    app_metadata: { provider: 'email', providers: ['email'] },
    user_metadata: {},
    identities: [],
    created_at: created,
    updated_at: signedIn,
    is_anonymous: false,
  };
}

/** Signs an access token with the claims Supabase puts in one, and answers the session. */
async function sendSession(ctx: OriginContext, call: { res: ServerResponse; origin: string }, session: Session, email: string): Promise<void> {
  const iat = Math.floor(ctx.options.now() / 1000);
  const lifetime = ctx.state.tokenLifetimeSeconds;
  const accessToken = await ctx.signer.sign(
    {
      iss: `${ctx.options.issuer ?? call.origin}/auth/v1`,
      sub: session.userId,
      aud: 'authenticated',
      iat,
      exp: iat + lifetime,
      email,
      role: 'authenticated',
      aal: 'aal1',
      session_id: session.id,
      is_anonymous: false,
    },
    iat,
  );
  sendJson(call.res, 200, {
    access_token: accessToken,
    token_type: 'bearer',
    expires_in: lifetime,
    expires_at: iat + lifetime,
    refresh_token: issueRefreshToken(ctx, { sessionId: session.id, email }),
    user: userView(ctx, session, email),
  });
}

function requiredString(params: Record<string, unknown>, name: string): string {
  const param = stringParam(params, name);
  if (!param.present || !('value' in param) || param.value.trim() === '' || param.value.length > 256) {
    throw authError(400, 'validation_failed', `${name} must be a non-empty string of at most 256 characters`);
  }
  return param.value;
}

/** Any session error of the origin becomes the one code the client treats as "signed out". */
function mintableOrMissing(ctx: OriginContext, session: Session | null): Session {
  try {
    return requireMintableSession(ctx, session);
  } catch {
    throw authError(403, 'session_not_found', 'Session from session_id claim in JWT does not exist');
  }
}

/** The session and email named by a `Bearer` access token this origin signed and that is not expired. */
async function bearerSession(ctx: OriginContext, req: IncomingMessage): Promise<{ session: Session; email: string }> {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  const verified = match?.[1] ? await ctx.signer.verifySignature(match[1]) : null;
  const claims = verified?.payload;
  if (!claims || typeof claims.session_id !== 'string' || typeof claims.email !== 'string' || typeof claims.exp !== 'number') {
    throw authError(403, 'bad_jwt', 'invalid JWT: unable to parse or verify signature');
  }
  if (claims.exp * 1000 <= ctx.options.now()) throw authError(403, 'bad_jwt', 'invalid JWT: token is expired');
  return { session: mintableOrMissing(ctx, ctx.state.session(claims.session_id)), email: claims.email };
}

/** Runs a handler and answers its refusals in the protocol's error shape. */
async function speakingAuthErrors(res: ServerResponse, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof OriginHttpError)) throw error;
    sendAuthError(res, error);
  }
}

/** `POST /auth/v1/token?grant_type=password|refresh_token`. */
const token: Route = {
  method: 'POST',
  pattern: /^\/auth\/v1\/token$/,
  name: 'supabase_token',
  async handle(ctx, { req, res, url, origin }) {
    await speakingAuthErrors(res, async () => {
      // The origin's faults stand for an origin in trouble, whichever protocol the client speaks.
      await injectFaults(ctx);
      requireOriginUp(ctx);
      const params = await readParams(req, 'json');
      const grantType = url.searchParams.get('grant_type');
      if (grantType === 'password') {
        const email = requiredString(params, 'email');
        requiredString(params, 'password');
        const session = ctx.state.startSession(ctx.state.createClient(), ctx.state.userForIdentifier(email).id, SIGN_IN_SESSION_MAX_DURATION_S);
        await sendSession(ctx, { res, origin }, session, email);
        return;
      }
      if (grantType === 'refresh_token') {
        const grant = grantsOf(ctx).get(requiredString(params, 'refresh_token'));
        if (!grant) throw authError(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
        const session = mintableOrMissing(ctx, ctx.state.session(grant.sessionId));
        await sendSession(ctx, { res, origin }, session, grant.email);
        ctx.state.countRequest('supabase_refresh');
        return;
      }
      throw authError(400, 'validation_failed', 'grant_type must be password or refresh_token');
    });
  },
};

/** `GET /auth/v1/user` with `Authorization: Bearer <access token>`. */
const user: Route = {
  method: 'GET',
  pattern: /^\/auth\/v1\/user$/,
  name: 'supabase_user',
  async handle(ctx, { req, res }) {
    await speakingAuthErrors(res, async () => {
      const { session, email } = await bearerSession(ctx, req);
      sendJson(res, 200, userView(ctx, session, email));
    });
  },
};

/** `POST /auth/v1/logout[?scope=…]`: ends the token's session (every scope ends just this one here). */
const logout: Route = {
  method: 'POST',
  pattern: /^\/auth\/v1\/logout$/,
  name: 'supabase_logout',
  async handle(ctx, { req, res }) {
    await speakingAuthErrors(res, async () => {
      const { session } = await bearerSession(ctx, req);
      ctx.state.endSession(session);
      res.statusCode = 204;
      res.end();
    });
  },
};

/** The Supabase Auth protocol routes; mounted only with `faults: true`. */
export const supabaseRoutes: readonly Route[] = [token, user, logout];
