import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

/** One ES256 key pair for the whole unit run, and a second one that nobody trusts. */
let keys: Promise<{ privateKey: CryptoKey; publicKey: CryptoKey; jwk: JWK; otherPrivateKey: CryptoKey }> | null = null;

export function testKeys() {
  keys ??= (async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const other = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' };
    return { privateKey: pair.privateKey, publicKey: pair.publicKey, jwk, otherPrivateKey: other.privateKey };
  })();
  return keys;
}

export interface TokenClaims {
  sid: string;
  /** Seconds. */
  iat: number;
  /** Seconds. */
  exp: number;
  oiat?: number | null;
  iss?: string;
  extra?: Record<string, unknown>;
  /** Sign with the untrusted key (bad signature under verify). */
  untrusted?: boolean;
}

/** A real ES256 token with exactly these claims. */
export async function signToken(c: TokenClaims): Promise<string> {
  const k = await testKeys();
  const header: { alg: string; kid: string; typ: string; oiat?: number } = { alg: 'ES256', kid: 'test-key', typ: 'JWT' };
  if (c.oiat !== null) header.oiat = c.oiat ?? c.iat;
  return new SignJWT({ sid: c.sid, sub: 'user_1', ...(c.iss ? { iss: c.iss } : {}), ...c.extra })
    .setProtectedHeader(header)
    .setIssuedAt(c.iat)
    .setExpirationTime(c.exp)
    .sign(c.untrusted ? k.otherPrivateKey : k.privateKey);
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A structurally valid JWT with any header and payload and a junk signature (alg none, missing claims). */
export function rawToken(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${b64url(header)}.${b64url(payload)}.${header.alg === 'none' ? '' : 'c2lnbmF0dXJl'}`;
}
