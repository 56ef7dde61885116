/**
 * Signature verification against a remote JWKS. Loaded only through a dynamic `import()` from
 * `TokenValidator` when `verify` is set, so the jose verification code is a separate chunk and the
 * worker bundle stays small for everyone else.
 */
import { createRemoteJWKSet, customFetch, jwtVerify } from 'jose';
import { check, isAsymmetricAlgorithm, isBaseUrl, isFields, type Fields } from '../protocol/checks.ts';
import type { VerifyOptions } from '../protocol/types.ts';

/** The JWS algorithms of asymmetric keys: what a JWKS can verify. */
export const ASYMMETRIC_ALGORITHMS = ['EdDSA', 'Ed25519', 'ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];

/**
 * One remote key set, created once and reused: jose caches the keys, allows one fetch in flight and
 * refetches on an unknown `kid`.
 *
 * @example
 * const verifier = new JwksVerifier({ jwksUrl: 'https://example.com/.well-known/jwks.json' }, fetch);
 * await verifier.verify(jwt, originNowSeconds);
 */
export class JwksVerifier {
  readonly #options: VerifyOptions;
  readonly #keys: ReturnType<typeof createRemoteJWKSet>;

  constructor(untrusted: VerifyOptions, fetchImpl: typeof fetch) {
    const options = parseVerify(untrusted);
    this.#options = options;
    this.#keys = createRemoteJWKSet(new URL(options.jwksUrl), { [customFetch]: fetchImpl });
  }

  /**
   * Throws jose's error when the signature, issuer or algorithm does not check. Time claims are
   * judged at the origin's "now", never at this machine's clock, which may be hours off (SPEC 3).
   */
  async verify(jwt: string, originNowSeconds: number): Promise<void> {
    await jwtVerify(jwt, this.#keys, {
      currentDate: new Date(originNowSeconds * 1000),
      ...(this.#options.issuer !== undefined ? { issuer: this.#options.issuer } : {}),
      // Without algorithms of the app's own: any asymmetric one the keys allow, never `none` or an HMAC one.
      algorithms: this.#options.algorithms ?? ASYMMETRIC_ALGORITHMS,
    });
  }
}

/**
 * The `verify` part of a config that arrived from a tab, checked field by field into a fresh copy
 * when the verifier is made (before the first token is taken): in this chunk, which only managers
 * with `verify` load.
 */
export function parseVerify(value: unknown): VerifyOptions {
  const v = check<Fields>(value, isFields(value), 'verify');
  const out: VerifyOptions = { jwksUrl: check(v.jwksUrl, isBaseUrl(v.jwksUrl, true), 'verify.jwksUrl') };
  if (v.issuer !== undefined) out.issuer = check(v.issuer, typeof v.issuer === 'string' && v.issuer !== '', 'verify.issuer');
  if (v.algorithms !== undefined) {
    const ok = Array.isArray(v.algorithms) && v.algorithms.length > 0 && v.algorithms.every(isAsymmetricAlgorithm);
    out.algorithms = [...check<string[]>(v.algorithms, ok, 'verify.algorithms')];
  }
  return out;
}
