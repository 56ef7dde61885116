/**
 * DPoP (RFC 9449): one non-extractable ES256 key per grant, and a proof per request signed with it.
 * A copied access or refresh token is useless without the key, which never leaves this browser's
 * storage (a script injected into the app's origin can still use it while it runs: SPEC 11).
 */
import { SignJWT, base64url, exportJWK } from 'jose';
import { randomId } from '../../protocol/randomId.ts';

/** A new key pair; the private key cannot be exported, the public one travels in every proof. */
export function createDpopKey(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
}

/** base64url(SHA-256(text)): PKCE's code challenge and a proof's `ath`. */
export async function sha256(text: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))));
}

/** The `htu` of a request: its URL without query and fragment. */
export const htuOf = (url: string): string => url.replace(/[?#].*$/s, '');

/**
 * A DPoP proof for one request: `htm`, `htu`, a fresh `jti`, `iat` in seconds, and — for a request
 * carrying an access token — its hash `ath`; `nonce` when the server asked for one.
 *
 * @example
 * const proof = await dpopProof(grant.dpopKey, { htm: 'POST', htu: tokenEndpoint, nowS, nonce: null });
 */
export async function dpopProof(
  key: CryptoKeyPair,
  o: { htm: string; htu: string; nowS: number; nonce: string | null; accessToken?: string },
): Promise<string> {
  const { kty, crv, x, y } = await exportJWK(key.publicKey);
  const claims: Record<string, unknown> = { htm: o.htm, htu: htuOf(o.htu), jti: randomId(), iat: o.nowS };
  if (o.accessToken !== undefined) claims.ath = await sha256(o.accessToken);
  if (o.nonce !== null) claims.nonce = o.nonce;
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: { kty, crv, x, y } }).sign(key.privateKey);
}

/** A random string for PKCE verifiers, `state` and `nonce`: 32 bytes, base64url. */
export const randomToken = (): string => base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
