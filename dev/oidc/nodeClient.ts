/**
 * A minimal OpenID Connect client in Node, for tests of the provider itself and for tests that need
 * a grant made "from outside" the browser: discovery, the authorization-code flow with PKCE S256
 * driven through the provider's development login and consent pages with plain fetch and a cookie
 * jar, and token-endpoint requests (with DPoP proofs and one `use_dpop_nonce` retry).
 * It checks only what a test relies on (state, iss); the library's own client is what validates
 * ID tokens for real.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ProviderMetadata as LibraryMetadata } from '../../origins/oidc/ProviderClient.ts';
import type { DpopKey } from './dpopKey.ts';

/** The discovery fields these helpers read: the library's own, and introspection. */
export interface ProviderMetadata extends LibraryMetadata {
  introspection_endpoint?: string;
  [key: string]: unknown;
}

/** `GET {issuer}/.well-known/openid-configuration`, checked to be this issuer's. */
export async function discover(issuer: string): Promise<ProviderMetadata> {
  const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`discovery answered ${res.status}`);
  const doc = (await res.json()) as ProviderMetadata;
  if (doc.issuer !== issuer) throw new Error(`discovery names issuer ${JSON.stringify(doc.issuer)}, not ${JSON.stringify(issuer)}`);
  return doc;
}

/**
 * Cookies as a browser keeps them for one host: by name and path, sent to the paths they cover.
 * (The provider scopes its interaction cookies to `/interaction/{uid}` and `/auth/{uid}`.)
 */
export class CookieJar {
  readonly #cookies = new Map<string, { name: string; value: string; path: string }>();

  /** Takes the `Set-Cookie` headers of a response to `url`. */
  store(url: string, res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = new URL(url).pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = false;
      for (const attribute of attributes) {
        const [key = '', val = ''] = attribute.split('=').map((s) => s.trim());
        if (key.toLowerCase() === 'path' && val.startsWith('/')) path = val;
        if (key.toLowerCase() === 'expires' && Date.parse(val) <= Date.now()) expired = true;
        if (key.toLowerCase() === 'max-age' && Number(val) <= 0) expired = true;
      }
      const id = `${name};${path}`;
      if (expired || value === '') this.#cookies.delete(id);
      else this.#cookies.set(id, { name, value, path });
    }
  }

  /** The `Cookie` header for a request to `url`, or null. */
  header(url: string): string | null {
    const { pathname } = new URL(url);
    const matching = [...this.#cookies.values()].filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`));
    return matching.length ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : null;
  }
}

async function send(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const cookie = jar.header(url);
  if (cookie) headers.set('cookie', cookie);
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.store(url, res);
  return res;
}

/** A token-endpoint answer. */
export interface TokenAnswer {
  status: number;
  headers: Headers;
  /** The JSON body (an error answer's too). */
  body: Record<string, unknown>;
}

/**
 * `POST {tokenEndpoint}` with a form body. With `dpop`, a proof goes with it, and a
 * `use_dpop_nonce` answer is retried once with the nonce the provider sent.
 */
export async function tokenRequest(
  tokenEndpoint: string,
  params: Record<string, string>,
  o: { dpop?: DpopKey; origin?: string; nonce?: string } = {},
): Promise<TokenAnswer> {
  const attempt = async (nonce: string | undefined): Promise<TokenAnswer> => {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (o.origin) headers.origin = o.origin;
    if (o.dpop) headers.dpop = await o.dpop.proof({ htm: 'POST', htu: tokenEndpoint, ...(nonce ? { nonce } : {}) });
    const res = await fetch(tokenEndpoint, { method: 'POST', headers, body: new URLSearchParams(params) });
    const text = await res.text();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { error: 'not_json', error_description: text.slice(0, 200) };
    }
    return { status: res.status, headers: res.headers, body };
  };
  const first = await attempt(o.nonce);
  const nonce = first.headers.get('dpop-nonce');
  if (o.dpop && first.body.error === 'use_dpop_nonce' && nonce) return attempt(nonce);
  return first;
}

/** What {@link signInWithCodeFlow} needs. */
export interface CodeFlowOptions {
  issuer: string;
  clientId: string;
  redirectUri: string;
  /** Default `'openid offline_access'`. */
  scope?: string;
  prompt?: string;
  /** The account to sign in as on the development login page (any name; it becomes `sub`). */
  login?: string;
  /** Binds the tokens to this key (DPoP proofs on the token request). */
  dpop?: DpopKey;
  resource?: string;
  /** Reuse a provider session (the same "browser") across sign-ins. */
  jar?: CookieJar;
}

/** What a completed code flow gives. */
export interface CodeFlowResult {
  metadata: ProviderMetadata;
  /** The `iss` of the authorization response (RFC 9207). */
  iss: string | null;
  code: string;
  nonce: string;
  /** The token answer (status 200). */
  tokens: {
    access_token: string;
    token_type: string;
    expires_in: number;
    id_token?: string;
    refresh_token?: string;
    scope?: string;
  };
  jar: CookieJar;
}

const b64url = (bytes: Buffer): string => bytes.toString('base64url');

function formOf(html: string): { action: string; prompt: string } | null {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  const prompt = /name="prompt" value="([a-z]+)"/.exec(html)?.[1];
  return action && prompt ? { action: action.replace(/&amp;/g, '&'), prompt } : null;
}

/** An authorization request ready to be opened, with the secrets its answer is checked and redeemed with. */
export interface AuthorizationRequest {
  url: string;
  verifier: string;
  state: string;
  nonce: string;
}

/**
 * Builds an authorization request (code, PKCE S256, `state`, `nonce`) for the provider's
 * authorization endpoint, for a test that opens it in a browser page.
 *
 * @example
 * const request = authorizationRequest(metadata, { clientId, redirectUri });
 * await page.goto(request.url);
 */
export function authorizationRequest(
  metadata: ProviderMetadata,
  o: Pick<CodeFlowOptions, 'clientId' | 'redirectUri' | 'scope' | 'prompt' | 'resource'>,
): AuthorizationRequest {
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const nonce = b64url(randomBytes(16));
  const url = new URL(metadata.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: o.clientId,
    redirect_uri: o.redirectUri,
    response_type: 'code',
    scope: o.scope ?? 'openid offline_access',
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...(o.prompt ? { prompt: o.prompt } : {}),
    ...(o.resource ? { resource: o.resource } : {}),
  }).toString();
  return { url: url.href, verifier, state, nonce };
}

/**
 * Checks the authorization answer (the URL the browser came back to) against its request and
 * redeems its code. Throws on an `error=` answer, another `state`, or a failed redemption.
 */
export async function redeemAuthorizationAnswer(
  metadata: ProviderMetadata,
  request: AuthorizationRequest,
  answerUrl: string,
  o: Pick<CodeFlowOptions, 'clientId' | 'redirectUri' | 'dpop' | 'resource'>,
): Promise<Omit<CodeFlowResult, 'jar'>> {
  const answer = new URL(answerUrl);
  if (!answerUrl.startsWith(o.redirectUri)) throw new Error(`the flow did not come back to ${o.redirectUri} (last URL ${answerUrl})`);
  const error = answer.searchParams.get('error');
  if (error) throw new Error(`the authorization answered error=${error}: ${answer.searchParams.get('error_description') ?? ''}`);
  if (answer.searchParams.get('state') !== request.state) throw new Error('the authorization answer carries another state');
  const code = answer.searchParams.get('code');
  if (!code) throw new Error(`the authorization answer has no code: ${answerUrl}`);
  const token = await tokenRequest(
    metadata.token_endpoint,
    {
      grant_type: 'authorization_code',
      code,
      redirect_uri: o.redirectUri,
      client_id: o.clientId,
      code_verifier: request.verifier,
      ...(o.resource ? { resource: o.resource } : {}),
    },
    o.dpop ? { dpop: o.dpop } : {},
  );
  if (token.status !== 200) throw new Error(`the code redemption answered ${token.status}: ${JSON.stringify(token.body)}`);
  return { metadata, iss: answer.searchParams.get('iss'), code, nonce: request.nonce, tokens: token.body as CodeFlowResult['tokens'] };
}

/**
 * The authorization-code flow with PKCE S256, `state` and `nonce`, as a browser would run it, with
 * the provider's development login (any login and password) and consent pages submitted by fetch.
 * Throws on anything unexpected, quoting what the provider answered.
 *
 * @example
 * const { tokens } = await signInWithCodeFlow({ issuer, clientId: 'app', redirectUri: 'http://127.0.0.1:5173/' });
 * tokens.refresh_token; // issued for offline_access
 */
export async function signInWithCodeFlow(o: CodeFlowOptions): Promise<CodeFlowResult> {
  const metadata = await discover(o.issuer);
  const jar = o.jar ?? new CookieJar();
  const request = authorizationRequest(metadata, o);
  let url = request.url;
  let res = await send(jar, url);
  for (let step = 0; step < 20; step++) {
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, url).href;
      if (url.startsWith(o.redirectUri)) break;
      res = await send(jar, url);
      continue;
    }
    const html = await res.text();
    const form = res.status === 200 ? formOf(html) : null;
    if (!form) throw new Error(`the provider answered ${res.status} at ${url}: ${html.slice(0, 300)}`);
    const body: Record<string, string> =
      form.prompt === 'login' ? { prompt: 'login', login: o.login ?? `user-${b64url(randomBytes(4))}`, password: 'any' } : { prompt: form.prompt };
    url = new URL(form.action, url).href;
    res = await send(jar, url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
  }
  return { ...(await redeemAuthorizationAnswer(metadata, request, url, o)), jar };
}

/**
 * `grant_type=refresh_token` for a public client.
 *
 * @example
 * const answer = await refreshGrant({ tokenEndpoint, clientId, refreshToken });
 * answer.status; // 200, or 400 with body.error === 'invalid_grant'
 */
export function refreshGrant(o: { tokenEndpoint: string; clientId: string; refreshToken: string; dpop?: DpopKey; origin?: string }): Promise<TokenAnswer> {
  return tokenRequest(
    o.tokenEndpoint,
    { grant_type: 'refresh_token', refresh_token: o.refreshToken, client_id: o.clientId },
    {
      ...(o.dpop ? { dpop: o.dpop } : {}),
      ...(o.origin ? { origin: o.origin } : {}),
    },
  );
}
