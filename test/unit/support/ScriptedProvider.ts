/**
 * A fetch that answers like an OpenID provider, for the answers a real provider cannot be asked to
 * give: ID tokens signed with another key, for another audience or nonce, already expired; token
 * answers without `expires_in`, not JSON, or huge. The real provider (oidc-provider) is what the
 * end-to-end tests run against; this is for the adapter's refusals, on fake time.
 */
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import type { FakeClock } from './FakeClock.ts';

type Keys = { privateKey: CryptoKey; jwk: JWK };

let shared: Promise<Keys> | null = null;
function keys(): Promise<Keys> {
  shared ??= generateKeyPair('ES256').then(async ({ privateKey, publicKey }) => ({ privateKey, jwk: { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' } }));
  return shared;
}

export interface TokenCall {
  form: URLSearchParams;
  dpop: string | null;
}

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
  };
  /** Answers the next token requests, in order; then `tokenHandler`. */
  readonly queue: ((call: TokenCall) => Response | Promise<Response>)[] = [];
  tokenHandler: (call: TokenCall) => Response | Promise<Response> = () => this.json(400, { error: 'invalid_request' });
  revoked: string[] = [];
  /** The provider's clock minus the client's, ms: what a skewed client clock looks like. */
  skewMs = 0;
  /** Whether answers carry a `Date` header the page can read (a CORS that exposes it). */
  sendDate = true;
  readonly #clock: FakeClock;

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  nowS(): number {
    return Math.floor((this.#clock.now() + this.skewMs) / 1000);
  }

  json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
    const date: Record<string, string> = this.sendDate ? { date: new Date(this.#clock.now() + this.skewMs).toUTCString() } : {};
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...date, ...headers } });
  }

  /** An ID token as the provider signs it; `claims` overrides, `key` signs with another key. */
  async idToken(claims: JWTPayload = {}, o: { otherKey?: boolean } = {}): Promise<string> {
    const signer = o.otherKey ? (await generateKeyPair('ES256')).privateKey : (await keys()).privateKey;
    const now = this.nowS();
    return new SignJWT({ iss: this.issuer, aud: this.clientId, sub: 'alice', iat: now, exp: now + 300, ...claims }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(signer);
  }

  /** A good token answer: an opaque access token, `expires_in`, a refresh token, the ID token. */
  async answer(o: { nonce?: string; refreshToken?: string | null; idToken?: string | null; expiresIn?: number | null; accessToken?: string; tokenType?: string } = {}): Promise<Response> {
    const body: Record<string, unknown> = { access_token: o.accessToken ?? `at-${Math.random().toString(36).slice(2)}`, token_type: o.tokenType ?? 'Bearer' };
    if (o.expiresIn !== null) body.expires_in = o.expiresIn ?? 60;
    if (o.refreshToken !== null) body.refresh_token = o.refreshToken ?? `rt-${Math.random().toString(36).slice(2)}`;
    const idToken = o.idToken === undefined ? await this.idToken(o.nonce ? { nonce: o.nonce } : {}) : o.idToken;
    if (idToken !== null) body.id_token = idToken;
    return this.json(200, body);
  }

  fetch: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const path = url.pathname;
    if (path === '/.well-known/openid-configuration') return this.json(200, this.discovery);
    if (path === '/jwks') return this.json(200, { keys: [(await keys()).jwk] });
    const form = new URLSearchParams(typeof init?.body === 'string' ? init.body : '');
    if (path === '/revoke') {
      this.revoked.push(form.get('token') ?? '');
      return new Response(null, { status: 200 });
    }
    if (path === '/token') {
      const call = { form, dpop: new Headers(init?.headers).get('dpop') };
      this.calls.push(call);
      return (this.queue.shift() ?? this.tokenHandler)(call);
    }
    return this.json(404, { error: 'not_found' });
  };
}
