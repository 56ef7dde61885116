import { decodeJwt, decodeProtectedHeader } from 'jose';
import { TokenInvalidError } from '../../protocol/errors.ts';
import type { VerifyOptions } from '../../protocol/types.ts';
import type { JwksVerifier } from '../JwksVerifier.ts';

/** What a valid token says about itself (seconds, origin time). */
export interface ValidToken {
  jwt: string;
  sid: string;
  iat: number;
  exp: number;
  /** Header `oiat`, null when absent or not a number. */
  oiat: number | null;
  /** The whole payload, frozen. */
  payload: Readonly<Record<string, unknown>>;
}

/**
 * Checks every minted token before it is cached (SPEC 5): it decodes (jose), has numeric `exp` and
 * `iat` with `exp > iat` and `exp > originNow`, its `sid` is the session asked for, its `alg` is not
 * `none`, and with `verify` its signature checks against the JWKS. A token that fails is a
 * `TokenInvalidError`; the caller keeps the previous token.
 *
 * @example
 * const validator = new TokenValidator(null, fetch);
 * const token = await validator.validate(jwt, { sessionId: 'sess_1', originNow: 1_760_000_000 });
 */
export class TokenValidator {
  readonly #verify: VerifyOptions | null;
  readonly #fetch: typeof fetch;
  #verifier: Promise<JwksVerifier> | null = null;

  constructor(verify: VerifyOptions | null, fetchImpl: typeof fetch) {
    this.#verify = verify;
    this.#fetch = fetchImpl;
  }

  /**
   * Decodes a token and checks what needs no clock: it is a JWT, `alg` is not `none`, `iat` and `exp`
   * are numbers with `exp > iat`, `sid` is a string. Throws `TokenInvalidError` saying which failed.
   */
  static read(jwt: string): ValidToken {
    let header: ReturnType<typeof decodeProtectedHeader>;
    let payload: ReturnType<typeof decodeJwt>;
    try {
      header = decodeProtectedHeader(jwt);
      payload = decodeJwt(jwt);
    } catch (cause) {
      throw invalid('is not a decodable JWT', cause);
    }
    const { alg, oiat } = header;
    const { sid, iat, exp } = payload;
    if (typeof alg !== 'string' || alg.toLowerCase() === 'none') throw invalid(`is unsigned (alg ${String(alg)})`);
    if (!isTime(exp) || !isTime(iat)) throw invalid('lacks a numeric exp or iat claim');
    if (exp <= iat) throw invalid(`expires (exp ${exp}) no later than it was issued (iat ${iat})`);
    return { jwt, sid: typeof sid === 'string' ? sid : '', iat, exp, oiat: isTime(oiat) ? oiat : null, payload: Object.freeze({ ...payload }) };
  }

  /**
   * Reads a stored token (validated when it was minted) without clock or signature checks; null
   * when it does not read as a token of `sessionId`.
   */
  static inspect(jwt: string, sessionId: string): ValidToken | null {
    try {
      const token = TokenValidator.read(jwt);
      return token.sid === sessionId ? token : null;
    } catch {
      return null;
    }
  }

  /**
   * Validates a token minted for `sessionId`. `dateSeconds` is the response's `Date` header in
   * seconds, null when it had none.
   */
  async validate(jwt: string, o: { sessionId: string; dateSeconds: number | null }): Promise<ValidToken> {
    const token = TokenValidator.read(jwt);
    const originNow = TokenValidator.originNow(token.iat, o.dateSeconds);
    if (token.exp <= originNow) throw invalid(`had already expired by the origin's own clock (exp ${token.exp}, origin time ${originNow})`);
    if (token.sid !== o.sessionId) throw invalid(`belongs to another session than ${o.sessionId}`);
    if (this.#verify) {
      try {
        this.#verifier ??= import('../JwksVerifier.ts').then(({ JwksVerifier }) => new JwksVerifier(this.#verify!, this.#fetch));
        await (await this.#verifier).verify(jwt, originNow);
      } catch (cause) {
        // A failed chunk load must not poison every later token.
        if (!(cause instanceof Error && 'code' in cause)) this.#verifier = null;
        throw new TokenInvalidError(`The token's signature did not verify against ${this.#verify.jwksUrl}`, { cause });
      }
    }
    return token;
  }

  /**
   * The origin's "now" in seconds. The Date header has one-second resolution and `iat` was stamped
   * by the same origin a moment before, so the later of the two is the better estimate; with no
   * Date header, `iat` alone.
   */
  static originNow(iat: number, dateSeconds: number | null): number {
    return dateSeconds === null ? iat : Math.max(dateSeconds, iat);
  }
}

function invalid(why: string, cause?: unknown): TokenInvalidError {
  return new TokenInvalidError(`The origin returned a token that ${why}`, { cause });
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
