/**
 * The backend API's token route (seed 000): a server holding the secret key mints a token for any
 * session, without a browser cookie. Faults and outage modes do not apply, and its mints are not
 * counted in `stats.mints` (which counts what browsers cost the origin).
 */
import { requireSecretKey } from './backendAuth.ts';
import { readParams, sendJson } from './http.ts';
import { readExpiresInSeconds, requireMintableSession, resolveTemplate, signSessionToken, tokenAuthorizedParty, tokenIssuer } from './mintToken.ts';
import type { Route } from './routes.ts';

/** `POST /v1/sessions/{sid}/tokens[/{template}]` with JSON `{ expires_in_seconds? }`. */
const backendMint: Route = {
  method: 'POST',
  pattern: /^\/v1\/sessions\/([^/]+)\/tokens(?:\/(.*))?$/,
  name: 'backend_mint',
  async handle(ctx, { req, res, captures, origin }) {
    requireSecretKey(ctx, req);
    const params = await readParams(req, 'form');
    const sessionId = captures[0];
    const session = requireMintableSession(ctx, sessionId === undefined ? null : ctx.state.session(sessionId));
    const template = resolveTemplate(ctx, captures[1]);
    const expiresInSeconds = readExpiresInSeconds(params);
    const issuer = tokenIssuer(ctx, origin);
    const jwt = await signSessionToken(ctx, { session, template, expiresInSeconds, organizationId: null, issuer, azp: tokenAuthorizedParty(req, issuer) });
    sendJson(res, 200, { object: 'token', jwt });
  },
};

/** The backend API token routes. */
export const backendRoutes: readonly Route[] = [backendMint];
