/**
 * Error classes of tabtoken. Every failure is a `TokenError` with a stable `code`; callers
 * branch on `code` (or `instanceof`), never on the message. Errors keep their class, `code` and
 * `status` when they cross from the worker to a tab.
 */

/** Codes of every tabtoken error. */
export type TokenErrorCode = 'invalid_argument' | 'missing_expired_token' | 'origin_unavailable' | 'token_invalid' | 'origin_response' | 'connection';

/** One error entry of an origin's `{ errors: [...] }` body. */
export interface OriginErrorEntry {
  code: string;
  message?: string;
  long_message?: string;
}

/**
 * Base class of every tabtoken error.
 *
 * @example
 * try { await tokens.getToken(); } catch (e) { if (e instanceof TokenError) console.log(e.code); }
 */
export class TokenError extends Error {
  readonly code: TokenErrorCode;
  constructor(code: TokenErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'TokenError';
  }
}

/**
 * An option or argument is malformed; thrown before any request is made.
 *
 * @example
 * expect(() => createTokenManager({ pollIntervalMs: 10 })).toThrow(InvalidArgumentError);
 */
export class InvalidArgumentError extends TokenError {
  // A literal, not the class's own name: minifiers rename classes.
  override readonly name: string = 'InvalidArgumentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid_argument', message, options);
  }
}

/**
 * The origin asked for the last token (its outage mode) and none is known for the session.
 *
 * @example
 * if (error instanceof MissingExpiredTokenError) redirectToSignIn();
 */
export class MissingExpiredTokenError extends TokenError {
  override readonly name: string = 'MissingExpiredTokenError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('missing_expired_token', message, options);
  }
}

/**
 * The origin could not be reached and the call could not be served without it (no usable token is
 * cached, `skipCache` asked for a new one, the session is not known yet); the message says which.
 * `getToken` never answers `null` for an outage: this is what it rejects with.
 *
 * @example
 * tokens.getToken().catch((e) => { if (e.code === 'origin_unavailable') showOfflineBanner(); });
 */
export class OriginUnavailableError extends TokenError {
  override readonly name: string = 'OriginUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('origin_unavailable', message, options);
  }
}

/**
 * A token from the origin failed validation (not a JWT, expired, wrong `sid`, `alg: none`, a bad
 * signature with `verify`); it was not cached and the previous token stays.
 *
 * @example
 * tokens.on('error', (e) => { if (e instanceof TokenInvalidError) report(e); });
 */
export class TokenInvalidError extends TokenError {
  override readonly name: string = 'TokenInvalidError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('token_invalid', message, options);
  }
}

/**
 * The origin answered with an HTTP error that is not an outage and not a sign-out.
 *
 * @example
 * const e = await tokens.getToken({ template: 'nope' }).catch((e) => e);
 * e.status;          // 404
 * e.errors[0].code;  // 'template_not_found'
 */
export class OriginResponseError extends TokenError {
  override readonly name: string = 'OriginResponseError';
  readonly status: number;
  readonly errors: OriginErrorEntry[];
  /** Seconds from the `Retry-After` header, when the origin sent one. */
  readonly retryAfter: number | null;
  constructor(status: number, errors: OriginErrorEntry[], retryAfter: number | null = null, message?: string, options?: { cause?: unknown }) {
    const first = errors[0];
    super(
      'origin_response',
      message ?? `The token origin answered ${status}${first ? ` ${first.code}${first.message ? `: ${first.message}` : ''}` : ''}`,
      options,
    );
    this.status = status;
    this.errors = errors;
    this.retryAfter = retryAfter;
  }
}

/**
 * The tab could not reach the worker (or the leader tab), or a call to it timed out (15 s).
 *
 * @example
 * await tokens.ready.catch((e) => { if (e instanceof ConnectionError) console.error(e.message); });
 */
export class ConnectionError extends TokenError {
  override readonly name: string = 'ConnectionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('connection', message, options);
  }
}

/** The plain shape an error takes on the wire (comlink transfer handler, local-mode replies). */
export interface SerializedError {
  name: string;
  code: string;
  message: string;
  status?: number;
  errors?: OriginErrorEntry[];
  retryAfter?: number | null;
}

/** Turns any thrown value into its wire shape. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof OriginResponseError) {
    return { name: error.name, code: error.code, message: error.message, status: error.status, errors: error.errors, retryAfter: error.retryAfter };
  }
  if (error instanceof TokenError) return { name: error.name, code: error.code, message: error.message };
  return { name: 'ConnectionError', code: 'connection', message: error instanceof Error ? error.message : String(error) };
}

/** A plain object (not null, not an array): what a structured clone of a record is. */
export const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether a value looks like a `SerializedError`; anything else is not trusted. */
export function isSerializedError(value: unknown): value is SerializedError {
  return isRecord(value) && typeof value.name === 'string' && typeof value.code === 'string' && typeof value.message === 'string';
}

/**
 * Rebuilds the error class from its wire shape. Anything malformed, or an unknown code, becomes a
 * `ConnectionError`: the other side is not trusted to send a well-formed error.
 */
export function deserializeError(value: unknown): TokenError {
  if (!isSerializedError(value)) return new ConnectionError('The other side sent a malformed error');
  const { code, message, status, errors, retryAfter } = value;
  if (code === 'origin_response') {
    return new OriginResponseError(
      typeof status === 'number' ? status : 0,
      Array.isArray(errors) ? errors.filter((e): e is OriginErrorEntry => isRecord(e) && typeof e.code === 'string') : [],
      typeof retryAfter === 'number' ? retryAfter : null,
      message,
    );
  }
  const Class = {
    invalid_argument: InvalidArgumentError,
    missing_expired_token: MissingExpiredTokenError,
    origin_unavailable: OriginUnavailableError,
    token_invalid: TokenInvalidError,
  }[code];
  return new (Class ?? ConnectionError)(message);
}
