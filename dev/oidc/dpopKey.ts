/**
 * DPoP (RFC 9449) on the Node side of the tests: a key pair that signs proofs, as a client that is
 * not a browser would (a test presenting a grant's refresh token "from outside", a replay with
 * another key), and the `ath` hash a proof for a resource request carries.
 */
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** What a proof is for. */
export interface DpopProofClaims {
  /** HTTP method of the request. */
  htm: string;
  /** URL of the request (query and fragment are dropped, as RFC 9449 says). */
  htu: string;
  /** The access token the request carries; adds `ath`. */
  accessToken?: string;
  /** A nonce the server asked for with `DPoP-Nonce`. */
  nonce?: string;
  /** Seconds since the epoch; default now (a test may pass a stale one). */
  iat?: number;
}

/** An ES256 DPoP key. */
export interface DpopKey {
  readonly publicJwk: JWK;
  /** RFC 7638 thumbprint of the public key: what `cnf.jkt` of a bound token holds. */
  readonly thumbprint: string;
  /** A fresh proof JWT (new `jti` each time). */
  proof(claims: DpopProofClaims): Promise<string>;
}

/** `ath`: base64url of the SHA-256 of the access token. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}

/** The `htu` of a URL: no query, no fragment. */
export function htuOf(url: string): string {
  const u = new URL(url);
  u.search = '';
  u.hash = '';
  return u.href;
}

/**
 * Makes a new ES256 key for DPoP proofs.
 *
 * @example
 * const key = await createDpopKey();
 * const proof = await key.proof({ htm: 'POST', htu: tokenEndpoint });
 * await fetch(tokenEndpoint, { method: 'POST', headers: { DPoP: proof }, body });
 */
export async function createDpopKey(): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const publicJwk: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  const thumbprint = await calculateJwkThumbprint(publicJwk, 'sha256');
  const sign = (key: CryptoKey, claims: DpopProofClaims): Promise<string> =>
    new SignJWT({
      htm: claims.htm,
      htu: htuOf(claims.htu),
      ...(claims.accessToken === undefined ? {} : { ath: accessTokenHash(claims.accessToken) }),
      ...(claims.nonce === undefined ? {} : { nonce: claims.nonce }),
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk })
      .setJti(randomUUID())
      .setIssuedAt(claims.iat ?? Math.floor(Date.now() / 1000))
      .sign(key);
  return { publicJwk, thumbprint, proof: (claims) => sign(privateKey, claims) };
}
