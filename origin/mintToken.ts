/**
 * The checks and the signing shared by the frontend and the backend token routes. Each check
 * throws the error of the SPEC's table; `signSessionToken` runs only after all of them passed.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { JWTPayload } from 'jose';
import { MAX_EXPIRES_IN_SECONDS, ORGANIZATION_ID_PATTERN, TEMPLATE_PATTERN } from '../protocol/constants.ts';
import type { BodyParams } from './http.ts';
import type { Session } from './OriginState.ts';
import { OriginHttpError } from './OriginHttpError.ts';
import type { ResolvedTemplate } from './options.ts';
import { integerParam, stringParam } from './params.ts';
import type { OriginContext } from './routes.ts';

/** Smallest `expires_in_seconds` the origin accepts (as Clerk's API does). */
export const MIN_EXPIRES_IN_SECONDS = 30;

/** A session that may mint: known, active, within its max duration. Throws 404 / 401 otherwise. */
export function requireMintableSession(ctx: OriginContext, session: Session | null): Session {
  if (!session) throw new OriginHttpError(404, 'session_not_found', 'Session not found', 'No session with this id exists on this client.');
  if (session.status === 'ended') throw new OriginHttpError(401, 'session_ended', 'Session ended', 'This session has been ended; sign in again.');
  if (ctx.state.isExpired(session)) {
    throw new OriginHttpError(401, 'session_expired', 'Session expired', 'This session is past its maximum duration; sign in again.');
  }
  return session;
}

/**
 * The template of the URL's last segment (still percent-encoded), or null without one. Anything
 * but one plain segment — `..`, `%2F`, a second `/`, an empty segment — is 400 `invalid_template`;
 * a well-formed name that was not declared is 404 `template_not_found`.
 */
export function resolveTemplate(ctx: OriginContext, segment: string | undefined): (ResolvedTemplate & { name: string }) | null {
  if (segment === undefined) return null;
  if (!TEMPLATE_PATTERN.test(segment)) {
    throw new OriginHttpError(400, 'invalid_template', 'Invalid template name', `A template name must match ${String(TEMPLATE_PATTERN)}.`);
  }
  const template = ctx.options.templates.get(segment);
  if (!template) throw new OriginHttpError(404, 'template_not_found', 'Template not found', `No JWT template named "${segment}" is declared.`);
  return { name: segment, ...template };
}

/** `expires_in_seconds` when given: an integer 30..315360000, else 422 `form_param_format_invalid`. */
export function readExpiresInSeconds(params: BodyParams): number | null {
  const param = integerParam(params, 'expires_in_seconds');
  if (!param.present) return null;
  if ('value' in param && param.value >= MIN_EXPIRES_IN_SECONDS && param.value <= MAX_EXPIRES_IN_SECONDS) return param.value;
  throw new OriginHttpError(
    422,
    'form_param_format_invalid',
    'expires_in_seconds is invalid',
    `expires_in_seconds must be an integer from ${MIN_EXPIRES_IN_SECONDS} to ${MAX_EXPIRES_IN_SECONDS}.`,
  );
}

/** `organization_id` when given: `/^[A-Za-z0-9_-]{1,128}$/`, else 422 `form_param_format_invalid`. */
export function readOrganizationId(params: BodyParams): string | null {
  const param = stringParam(params, 'organization_id');
  if (!param.present) return null;
  if ('value' in param && ORGANIZATION_ID_PATTERN.test(param.value)) return param.value;
  throw new OriginHttpError(422, 'form_param_format_invalid', 'organization_id is invalid', `organization_id must match ${String(ORGANIZATION_ID_PATTERN)}.`);
}

/** `iss`: the `issuer` option, else the origin the request reached. */
export function tokenIssuer(ctx: OriginContext, requestOrigin: string): string {
  return ctx.options.issuer ?? requestOrigin;
}

/** `azp`: the page that asked (its `Origin` header), else the issuer. */
export function tokenAuthorizedParty(req: IncomingMessage, issuer: string): string {
  const origin = req.headers.origin;
  return typeof origin === 'string' && origin !== '' && origin !== 'null' ? origin : issuer;
}

export interface MintRequest {
  session: Session;
  template: ResolvedTemplate | null;
  expiresInSeconds: number | null;
  organizationId: string | null;
  issuer: string;
  azp: string;
  /** The original iat to carry over (outage re-mint); default the new token's iat. */
  oiat?: number;
}

/**
 * Signs a session token. Lifetime: `expires_in_seconds`, else the template's, else the origin's
 * current default. The template's claims come first, so they can add claims but never replace the
 * ones the origin sets. `nbf` is 10 s before `iat`, as Clerk does, to absorb small clock skew at
 * the verifier.
 */
export async function signSessionToken(ctx: OriginContext, request: MintRequest): Promise<string> {
  const iat = Math.floor(ctx.options.now() / 1000);
  const lifetime = request.expiresInSeconds ?? request.template?.lifetimeSeconds ?? ctx.state.tokenLifetimeSeconds;
  const payload: JWTPayload = {
    ...request.template?.claims,
    sid: request.session.id,
    sub: request.session.userId,
    iat,
    nbf: iat - 10,
    exp: iat + lifetime,
    iss: request.issuer,
    azp: request.azp,
    jti: randomUUID(),
  };
  if (request.organizationId !== null) payload.org_id = request.organizationId;
  else delete payload.org_id; // a template claim must not pose as an organization the caller did not ask for
  return ctx.signer.sign(payload, request.oiat ?? iat);
}
