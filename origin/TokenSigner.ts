/**
 * The origin's signing key and everything done with it: sign a session token, publish the public
 * key as a JWKS, and check that a token was signed here (the outage mode's `expired_token`).
 */
import { calculateJwkThumbprint, compactVerify, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

/** The key set served at `/.well-known/jwks.json`. */
export interface JsonWebKeySet {
  keys: JWK[];
}

/** What a verified token says: its claims and the header fields the origin reads back. */
export interface VerifiedToken {
  payload: JWTPayload;
  /** The `oiat` header, or the token's `iat` for a token without one. */
  oiat: number | null;
}

interface SigningKeys {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
  kid: string;
}

async function createKeys(): Promise<SigningKeys> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = `ins_${await calculateJwkThumbprint(jwk)}`;
  return { privateKey, publicKey, kid, publicJwk: { ...jwk, kid, alg: 'ES256', use: 'sig' } };
}

/**
 * Signs ES256 session tokens with a key made when the origin starts (tokens do not survive a
 * restart, like the rest of the origin's state).
 *
 * @example
 * const signer = new TokenSigner();
 * const jwt = await signer.sign({ sid: 'sess_1', sub: 'user_1', iat, exp }, iat);
 */
export class TokenSigner {
  readonly #keys: Promise<SigningKeys>;

  constructor() {
    // Key generation starts at once so the first request does not pay for it; a failure surfaces
    // on the first use rather than as an unhandled rejection.
    this.#keys = createKeys();
    this.#keys.catch(() => undefined);
  }

  /** Signs the claims with header `{ alg: 'ES256', typ: 'JWT', kid, oiat }`. */
  async sign(payload: JWTPayload, oiat: number): Promise<string> {
    const keys = await this.#keys;
    return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: keys.kid, oiat }).sign(keys.privateKey);
  }

  /** The public key set. */
  async jwks(): Promise<JsonWebKeySet> {
    const keys = await this.#keys;
    return { keys: [{ ...keys.publicJwk }] };
  }

  /**
   * The token's claims when this origin signed it, whatever its `exp`; null for anything else
   * (another key, another algorithm, a forged or malformed token).
   */
  async verifySignature(jwt: string): Promise<VerifiedToken | null> {
    const keys = await this.#keys;
    try {
      const { payload, protectedHeader } = await compactVerify(jwt, keys.publicKey, { algorithms: ['ES256'] });
      if (protectedHeader.kid !== keys.kid) return null;
      const claims: unknown = JSON.parse(new TextDecoder().decode(payload));
      if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return null;
      const body = claims as JWTPayload;
      const oiat = typeof protectedHeader.oiat === 'number' ? protectedHeader.oiat : typeof body.iat === 'number' ? body.iat : null;
      return { payload: body, oiat };
    } catch {
      return null;
    }
  }
}
