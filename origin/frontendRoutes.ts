/**
 * The Frontend API a browser calls with its `__client` cookie (Clerk shapes, SPEC sections 5 and 9):
 * sign in, read the client, mint a session token, end a session, and the JWKS.
 */
import type { IncomingMessage } from 'node:http';
import { CLIENT_COOKIE, readBody, readCookie, readParams, sendJson, setClientCookie } from './http.ts';
import { injectFaults, requireExpiredToken, requireOriginUp, sendHostile } from './faultInjection.ts';
import {
  readExpiresInSeconds,
  readOrganizationId,
  requireMintableSession,
  resolveTemplate,
  signSessionToken,
  tokenAuthorizedParty,
  tokenIssuer,
} from './mintToken.ts';
import { SIGN_IN_SESSION_MAX_DURATION_S, type Client, type HostileKind, type Session } from './OriginState.ts';
import { OriginHttpError } from './OriginHttpError.ts';
import { stringParam } from './params.ts';
import type { OriginContext, Route } from './routes.ts';

/** Longest sign-in identifier accepted. */
const MAX_IDENTIFIER_LENGTH = 256;

/** A session as `GET /v1/client` and `/end` show it. */
export function sessionView(session: Session): { id: string; status: 'active' | 'ended'; user_id: string; expire_at: number } {
  return { id: session.id, status: session.status, user_id: session.userId, expire_at: session.expireAt };
}

function cookieClient(ctx: OriginContext, req: IncomingMessage): Client | null {
  return ctx.state.client(readCookie(req, CLIENT_COOKIE));
}

function requireClient(ctx: OriginContext, req: IncomingMessage): Client {
  const client = cookieClient(ctx, req);
  if (!client) throw new OriginHttpError(401, 'client_not_found', 'Client not found', 'This browser has no client: sign in first.');
  return client;
}

/** The session when it belongs to this client; another client's session is as unknown as a missing one. */
function clientSession(ctx: OriginContext, client: Client, sessionId: string | undefined): Session | null {
  const session = sessionId === undefined ? null : ctx.state.session(sessionId);
  return session && session.clientId === client.id ? session : null;
}

const signIn: Route = {
  method: 'POST',
  pattern: /^\/v1\/client\/sign_ins$/,
  name: 'sign_in',
  async handle(ctx, { req, res }) {
    const identifier = stringParam(await readParams(req, 'form'), 'identifier');
    if (!identifier.present || ('value' in identifier && identifier.value.trim() === '')) {
      throw new OriginHttpError(422, 'form_param_missing', 'identifier is missing', 'Sign in with a non-empty identifier form field.');
    }
    if (!('value' in identifier) || identifier.value.length > MAX_IDENTIFIER_LENGTH) {
      throw new OriginHttpError(
        422,
        'form_param_format_invalid',
        'identifier is invalid',
        `identifier must be a string of at most ${MAX_IDENTIFIER_LENGTH} characters.`,
      );
    }
    const client = cookieClient(ctx, req) ?? ctx.state.createClient();
    const user = ctx.state.userForIdentifier(identifier.value);
    const session = ctx.state.startSession(client, user.id, SIGN_IN_SESSION_MAX_DURATION_S);
    setClientCookie(res, client.id);
    sendJson(res, 200, { response: { id: session.id, status: 'active', user_id: user.id } });
  },
};

const getClient: Route = {
  method: 'GET',
  pattern: /^\/v1\/client$/,
  name: 'client',
  async handle(ctx, { req, res }) {
    const client = cookieClient(ctx, req);
    if (!client) return sendJson(res, 200, { response: null });
    sendJson(res, 200, {
      response: { sessions: ctx.state.listedSessions(client).map(sessionView), last_active_session_id: ctx.state.lastActiveSessionId(client) },
    });
  },
};

/**
 * `POST /v1/client/sessions/{sid}/tokens[/{template}]`. Faults and outage come first (they stand for
 * an origin in trouble, whatever the request), then the checks in the order of the SPEC's table,
 * and only then anything that counts or signs — or, with a `hostile` fault, a broken answer in
 * place of the token. Every request is recorded in the mint log once answered.
 */
const mint: Route = {
  method: 'POST',
  pattern: /^\/v1\/client\/sessions\/([^/]+)\/tokens(?:\/(.*))?$/,
  name: 'mint',
  async handle(ctx, { req, res, url, captures, origin }) {
    const at = ctx.options.now();
    let hostile: HostileKind | null = null;
    let minted = false;
    res.once('close', () => {
      ctx.state.logMint({
        at,
        ms: ctx.options.now() - at,
        sessionId: captures[0] ?? null,
        template: captures[1] ?? null,
        status: res.writableFinished ? res.statusCode : 0,
        expiredToken: url.searchParams.has('expired_token'),
        hostile,
        minted,
      });
    });
    await injectFaults(ctx);
    requireOriginUp(ctx);
    const params = await readParams(req, 'form');
    const client = requireClient(ctx, req);
    const session = requireMintableSession(ctx, clientSession(ctx, client, captures[0]));
    const template = resolveTemplate(ctx, captures[1]);
    const expiresInSeconds = readExpiresInSeconds(params);
    const organizationId = readOrganizationId(params);
    const oiat = ctx.state.outage === 'missing_expired_token' ? await requireExpiredToken(ctx, url, session) : undefined;
    const issuer = tokenIssuer(ctx, origin);
    const azp = tokenAuthorizedParty(req, issuer);
    hostile = ctx.state.faults.hostile;
    if (hostile !== null) return sendHostile(ctx, res, hostile, { session, issuer, azp });
    const jwt = await signSessionToken(ctx, { session, template, expiresInSeconds, organizationId, issuer, azp, ...(oiat === undefined ? {} : { oiat }) });
    ctx.state.countMint(session.id);
    minted = true;
    sendJson(res, 200, { object: 'token', jwt });
  },
};

/** Ends a session of this client. Ending an ended or expired session again answers 200 as well (sign-out is idempotent). */
const endSession: Route = {
  method: 'POST',
  pattern: /^\/v1\/client\/sessions\/([^/]+)\/end$/,
  name: 'end',
  async handle(ctx, { req, res, captures }) {
    await readBody(req); // the body means nothing here, but its size limit still applies
    const client = requireClient(ctx, req);
    const session = clientSession(ctx, client, captures[0]);
    if (!session) throw new OriginHttpError(404, 'session_not_found', 'Session not found', 'No session with this id exists on this client.');
    ctx.state.endSession(session);
    sendJson(res, 200, { response: sessionView(session) });
  },
};

const jwks: Route = {
  method: 'GET',
  pattern: /^\/\.well-known\/jwks\.json$/,
  name: 'jwks',
  async handle(ctx, { res }) {
    sendJson(res, 200, await ctx.signer.jwks());
  },
};

/** The Frontend API routes. */
export const frontendRoutes: readonly Route[] = [signIn, getClient, mint, endSession, jwks];
