/**
 * A fetch that answers like an OpenID provider, for the answers a real provider cannot be asked to
 * give: ID tokens signed with another key or algorithm, for another audience, party or nonce,
 * without `exp` or `iat`, already expired; token answers without `expires_in`, not JSON, or huge;
 * discovery documents with unusable endpoints; a discovery document or JWKS that does not answer.
 * The real provider (oidc-provider) is what the end-to-end tests run against; this is for the
 * adapter's refusals, on fake time.
 */
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import type { FakeClock } from './FakeClock.ts';

type Keys = { privateKey: CryptoKey; jwk: JWK };

let shared: Promise<Keys> | null = null;
function keys(): Promise<Keys> {
  shared ??= generateKeyPair('ES256').then(async ({ privateKey, publicKey }) => ({
    privateKey,
    jwk: { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' },
  }));
  return shared;
}

export interface TokenCall {
  url: string;
  form: URLSearchParams;
  dpop: string | null;
}

/** An HMAC secret as a hostile provider (or anyone knowing the client id) would sign with. */
export const HMAC_SECRET = new TextEncoder().encode('a-secret-everyone-can-know-0123456789');

export class ScriptedProvider {
  readonly issuer = 'https://op.test';
  readonly clientId = 'app';
  readonly calls: TokenCall[] = [];
  discovery: Record<string, unknown> = {
    issuer: this.issuer,
    authorization_endpoint: `${this.issuer}/auth`,
    token_endpoint: `${this.issuer}/token`,
    jwks_uri: `${this.issuer}/jwks`,
    revocation_endpoint: `${this.issuer}/revoke`,
    end_session_endpoint: `${this.issuer}/logout`,
    authorization_response_iss_parameter_supported: true,
    id_token_signing_alg_values_supported: ['ES256'],
  };
  /** Answers the next token requests, in order; then `tokenHandler`. */
  readonly queue: ((call: TokenCall) => Response | Promise<Response>)[] = [];
  tokenHandler: (call: TokenCall) => Response | Promise<Response> = () => this.json(400, { error: 'invalid_request' });
  revoked: string[] = [];
  /** The provider's clock minus the client's, ms: what a skewed client clock looks like. */
  skewMs = 0;
  /** Whether answers carry a `Date` header the page can read (a CORS that exposes it). */
  sendDate = true;
  /** Discovery requests answered or failed so far. */
  discoveryRequests = 0;
  /** JWKS requests answered or failed so far. */
  jwksRequests = 0;
  /** The discovery document's path meets a network error (the provider unreachable). */
  discoveryDown = false;
  /** The JWKS path meets a network error. */
  jwksDown = false;
  readonly #clock: FakeClock;

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  nowS(): number {
    return Math.floor((this.#clock.now() + this.skewMs) / 1000);
  }

  json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
    const date: Record<string, string> = this.sendDate ? { date: new Date(this.#clock.now() + this.skewMs).toUTCString() } : {};
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...date, ...headers },
    });
  }

  /**
   * An ID token as the provider signs it; `claims` overrides (a claim set to `undefined` is left
   * out), `otherKey` signs with another key, `hmac` with HS256 and {@link HMAC_SECRET}.
   */
  async idToken(claims: JWTPayload = {}, o: { otherKey?: boolean; hmac?: boolean } = {}): Promise<string> {
    const now = this.nowS();
    const jwt = new SignJWT({ iss: this.issuer, aud: this.clientId, sub: 'alice', iat: now, exp: now + 300, ...claims });
    if (o.hmac) return jwt.setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(HMAC_SECRET);
    const signer = o.otherKey ? (await generateKeyPair('ES256')).privateKey : (await keys()).privateKey;
    return jwt.setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(signer);
  }

  /** A good token answer: an opaque access token, `expires_in`, a refresh token, the ID token. */
  async answer(
    o: { nonce?: string; refreshToken?: string | null; idToken?: string | null; expiresIn?: number | null; accessToken?: string; tokenType?: string } = {},
  ): Promise<Response> {
    const body: Record<string, unknown> = { access_token: o.accessToken ?? `at-${Math.random().toString(36).slice(2)}`, token_type: o.tokenType ?? 'Bearer' };
    if (o.expiresIn !== null) body.expires_in = o.expiresIn ?? 60;
    if (o.refreshToken !== null) body.refresh_token = o.refreshToken ?? `rt-${Math.random().toString(36).slice(2)}`;
    const idToken = o.idToken === undefined ? await this.idToken(o.nonce ? { nonce: o.nonce } : {}) : o.idToken;
    if (idToken !== null) body.id_token = idToken;
    return this.json(200, body);
  }

  /**
   * The provider's fetch. It honours `init.signal` as a browser's does: an abort (a timeout, or
   * `abortAll`) fails the request at once, whatever the scripted answer is still waiting for.
   */
  fetch: typeof fetch = (input, init) => {
    const handled = this.#handle(input, init);
    const signal = init?.signal;
    if (!signal) return handled;
    return new Promise<Response>((resolve, reject) => {
      const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted', 'AbortError'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      handled.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  };

  async #handle(input: Parameters<typeof fetch>[0], init: RequestInit | undefined): Promise<Response> {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const path = url.pathname;
    if (path === '/.well-known/openid-configuration') {
      this.discoveryRequests++;
      if (this.discoveryDown) throw new TypeError('fetch failed');
      return this.json(200, this.discovery);
    }
    if (path === '/jwks') {
      this.jwksRequests++;
      if (this.jwksDown) throw new TypeError('fetch failed');
      // The HMAC secret is listed too, as a hostile or careless provider might: only the algorithm rule keeps it out.
      return this.json(200, { keys: [(await keys()).jwk, { kty: 'oct', k: Buffer.from(HMAC_SECRET).toString('base64url'), kid: 'k1', alg: 'HS256' }] });
    }
    const form = new URLSearchParams(typeof init?.body === 'string' ? init.body : '');
    if (path === '/revoke') {
      this.revoked.push(form.get('token') ?? '');
      return new Response(null, { status: 200 });
    }
    if (path === '/token') {
      const call = { url: url.href, form, dpop: new Headers(init?.headers).get('dpop') };
      this.calls.push(call);
      return (this.queue.shift() ?? this.tokenHandler)(call);
    }
    return this.json(404, { error: 'not_found' });
  }
}
