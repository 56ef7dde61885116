import { SESSION_ID_PATTERN } from '../../protocol/constants.ts';
import type { Clock } from '../../protocol/clock.ts';
import { OriginResponseError, OriginUnavailableError, TokenInvalidError, isRecord } from '../../protocol/errors.ts';
import type { EngineConfig } from '../../protocol/types.ts';
import { HttpClient, MAX_BODY_BYTES, parseJsonObject, type Received } from '../HttpClient.ts';
import type { FailureKind, MintTarget, MintedToken, OriginCounters, OriginSessions, TokenFacts, TokenOrigin } from '../../engine/TokenOrigin.ts';
import { TokenValidator } from './TokenValidator.ts';

/**
 * The Clerk Frontend API (SPEC 5): `POST {token}` / `POST {templateToken}` mints, `GET {client}`
 * and `POST {endSession}`, with the paths, base URL and credentials mode of the config.
 *
 * @example
 * const origin = new ClerkOrigin(config, { clock: systemClock, fetch });
 * const token = await origin.mint('sess_1', { template: null, organizationId: null, expiresInSeconds: null }, null);
 */
export class ClerkOrigin implements TokenOrigin {
  readonly #config: EngineConfig;
  readonly #http: HttpClient;
  readonly #validator: TokenValidator;
  readonly #counts = { mints: 0, mint: 0, client: 0, end: 0 };

  constructor(config: EngineConfig, deps: { clock: Clock; fetch: typeof fetch }) {
    this.#config = config;
    this.#http = new HttpClient({ clock: deps.clock, fetch: deps.fetch, credentials: config.credentials });
    this.#validator = new TokenValidator(config.verify, deps.fetch);
  }

  counters(): OriginCounters {
    return { ...this.#counts, failed: this.#http.failed };
  }

  abortAll(): void {
    this.#http.abortAll();
  }

  /**
   * Mints one token. `expiredToken` is the lastActiveToken sent as `?expired_token=` when the origin
   * is in outage mode and asked for it.
   */
  async mint(sessionId: string, target: MintTarget, expiredToken: string | null): Promise<MintedToken> {
    const { token, templateToken } = this.#config.endpoints;
    const url = this.#url(target.template === null ? token : templateToken, sessionId, target.template);
    if (expiredToken !== null) url.searchParams.set('expired_token', expiredToken);
    const body = new URLSearchParams();
    if (target.organizationId !== null) body.set('organization_id', target.organizationId);
    // With or without a template: a call with expiresInSeconds alone still asks for its own token.
    if (target.expiresInSeconds !== null) body.set('expires_in_seconds', String(target.expiresInSeconds));

    this.#counts.mint++;
    const received = await this.#post(url, body.toString());
    if (!received.ok) throw this.#http.error(received);
    this.#counts.mints++;

    if (received.text === null) throw new TokenInvalidError(`The origin's token response is larger than ${MAX_BODY_BYTES} bytes`);
    const jwt = readTokenBody(received.text);
    const dateS = received.dateMs === null ? null : Math.floor(received.dateMs / 1000);
    const valid = await this.#validator.validate(jwt, { sessionId, dateSeconds: dateS });
    const originNow = TokenValidator.originNow(valid.iat, dateS);
    return {
      jwt,
      oiat: valid.oiat,
      iat: valid.iat,
      lifetimeS: valid.exp - valid.iat,
      claims: valid.payload,
      expiresAt: received.receivedAt + (valid.exp - originNow) * 1000,
    };
  }

  /**
   * `GET {client}`, validated defensively: `{ response: null }` means the browser has no client
   * (signed out); anything that is neither that nor the documented shape is an
   * `OriginResponseError` carrying the 2xx status, so a glitching origin is treated like an
   * unreachable one rather than as a sign-out.
   */
  async readSessions(): Promise<OriginSessions> {
    this.#counts.client++;
    const received = await this.#http.send(this.#url(this.#config.endpoints.client), { method: 'GET' });
    if (!received.ok) throw this.#http.error(received);
    if (received.text === null) throw new OriginResponseError(received.status, [], null, `GET client answered a body larger than ${MAX_BODY_BYTES} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(received.text);
    } catch (cause) {
      throw new OriginResponseError(received.status, [], null, 'GET client answered a body that is not JSON', { cause });
    }
    // How far this machine's clock is ahead of the origin's, to place `expire_at` on the local clock.
    return ClerkOrigin.parseClient(body, received.dateMs === null ? 0 : received.receivedAt - received.dateMs);
  }

  /** `POST {endSession}`: resolves on a 2xx, throws like every other request otherwise. */
  async endSession(sessionId: string): Promise<void> {
    this.#counts.end++;
    const received = await this.#post(this.#url(this.#config.endpoints.endSession, sessionId, null), '');
    if (!received.ok) throw this.#http.error(received);
  }

  classify(error: unknown): FailureKind {
    if (error instanceof OriginUnavailableError) return 'outage';
    if (!(error instanceof OriginResponseError)) return 'error';
    const code = error.errors[0]?.code;
    if (error.status === 401 || (error.status === 404 && code === 'session_not_found')) return 'signout';
    if (error.status === 422 && code === 'missing_expired_token') return 'missing-expired-token';
    if (error.status === 429 || error.status >= 500 || (error.status >= 200 && error.status < 300)) return 'outage';
    return 'error';
  }

  inspect(jwt: string, sessionId: string): TokenFacts | null {
    const token = TokenValidator.inspect(jwt, sessionId);
    return token ? { oiat: token.oiat, iat: token.iat, lifetimeS: token.exp - token.iat, claims: token.payload } : null;
  }

  /** Reads the body of `GET {client}`; `skewMs` is how far this machine's clock is ahead of the origin's. */
  static parseClient(body: unknown, skewMs = 0): OriginSessions {
    if (!isRecord(body) || !('response' in body)) throw malformed('no "response"');
    const response = body.response;
    const endsAt = new Map<string, number>();
    const users = new Map<string, string>();
    if (response === null) return { sessions: new Set(), lastActiveSessionId: null, endsAt, users };
    if (!isRecord(response)) throw malformed('"response" is not null or an object');
    const list = response.sessions;
    if (!Array.isArray(list)) throw malformed('"response.sessions" is not an array');
    const sessions = new Set<string>();
    for (const s of list) {
      // A session that is ended, expired, revoked or malformed is simply not listed.
      if (!isRecord(s) || typeof s.id !== 'string' || !SESSION_ID_PATTERN.test(s.id) || s.status !== 'active') continue;
      sessions.add(s.id);
      if (typeof s.user_id === 'string' && s.user_id.length > 0 && s.user_id.length <= 256) users.set(s.id, s.user_id);
      // `expire_at` is in ms on the origin's clock; anything else is ignored (the session then ends
      // when a refresh is refused, as without it).
      if (typeof s.expire_at === 'number' && Number.isFinite(s.expire_at) && s.expire_at > 0) endsAt.set(s.id, s.expire_at + skewMs);
    }
    const last = response.last_active_session_id;
    const lastActiveSessionId = typeof last === 'string' && sessions.has(last) ? last : null;
    return { sessions, lastActiveSessionId, endsAt, users };
  }

  #post(url: URL, body: string): Promise<Received> {
    return this.#http.send(url, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  }

  #url(template: string, sessionId?: string, tokenTemplate?: string | null): URL {
    let path = sessionId === undefined ? template : template.replaceAll('{sid}', encodeURIComponent(sessionId));
    if (tokenTemplate != null) path = path.replaceAll('{template}', encodeURIComponent(tokenTemplate));
    return new URL(this.#config.frontendApi + path);
  }
}

/** `{ object: 'token', jwt }` or a `TokenInvalidError`. */
function readTokenBody(text: string): string {
  const body = parseJsonObject(text);
  if (!body) throw new TokenInvalidError('The origin answered the token request with a body that is not a JSON object');
  const { object, jwt } = body;
  if (object !== 'token') throw new TokenInvalidError(`The origin answered the token request with object ${JSON.stringify(object ?? null)}, not "token"`);
  if (typeof jwt !== 'string' || jwt.length === 0) throw new TokenInvalidError('The origin answered the token request without a jwt string');
  return jwt;
}

function malformed(why: string): OriginResponseError {
  return new OriginResponseError(200, [], null, `GET client answered a body tabtoken cannot read: ${why}`);
}
