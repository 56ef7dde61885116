/**
 * The HTTP side of an OpenID provider: the discovery document, the token endpoint (with DPoP
 * proofs and their nonces), revocation, and ID tokens verified with jose against the provider's
 * JWKS. Every request goes with `credentials: 'omit'` and the 1 MB cap of HttpClient, and every
 * answer is read defensively. Requests time out after 10 s, except at the token endpoint (60 s).
 */
import { createRemoteJWKSet, customFetch, errors as jose, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../../protocol/clock.ts';
import { OriginResponseError, OriginUnavailableError, TokenInvalidError, type OriginErrorEntry } from '../../protocol/errors.ts';
import type { OidcConfig } from '../../protocol/types.ts';
import { HttpClient, MAX_BODY_BYTES, parseJsonObject, type Received } from '../HttpClient.ts';
import { dpopProof } from './dpop.ts';
import { isProviderUrl } from './oidcChecks.ts';

/**
 * How long a token-endpoint request may run. Its answer may carry a rotated refresh token: a
 * request given up while the provider may still answer could lose it, and the next refresh would
 * present a used token (which revokes the grant at a provider with reuse detection). The engine's
 * callers stop waiting at 10 s on their own; the request goes on under the grant lock:
 *
 *   caller     getToken ──────────── 10 s: stale token / OriginUnavailableError
 *   request    POST refresh ──────────────────────────────▶ 200 at 25 s: RT2 stored, token used
 *   next       (waits for the grant lock) ───────────────────────────────── reads RT2 ── …
 */
export const TOKEN_REQUEST_TIMEOUT_MS = 60_000;

/** The parts of a discovery document tabtoken uses, checked. */
export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  revocation_endpoint?: string;
  end_session_endpoint?: string;
  dpop_signing_alg_values_supported?: string[];
  id_token_signing_alg_values_supported?: string[];
  authorization_response_iss_parameter_supported?: boolean;
}

/** The endpoints tabtoken calls or sends a tab to: each must pass {@link isProviderUrl}. */
const ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'revocation_endpoint', 'end_session_endpoint'] as const;
const REQUIRED: ReadonlySet<string> = new Set(['authorization_endpoint', 'token_endpoint', 'jwks_uri']);

/**
 * A discovery document checked (SPEC 11): its `issuer` equal to `issuer` byte for byte, and every
 * endpoint tabtoken uses an absolute https URL (http only on a loopback host) — the three it
 * needs present, the revocation and end-session endpoints valid when listed. A document that fails
 * is `TokenInvalidError` and is not used: no request goes to its endpoints and no tab is sent there.
 * Used on every document fetched and on every document read back from storage.
 *
 * @example
 * const metadata = checkDiscovery(await response.json(), 'https://auth.example.com');
 */
export function checkDiscovery(d: Record<string, unknown>, issuer: string): ProviderMetadata {
  if (d.issuer !== issuer) {
    throw new TokenInvalidError(
      `oidc.issuer is ${JSON.stringify(issuer)} but the provider's discovery document names ${JSON.stringify(d.issuer)}: they must be equal byte for byte`,
    );
  }
  for (const name of ENDPOINTS) {
    if (d[name] === undefined && !REQUIRED.has(name)) continue;
    if (!isProviderUrl(d[name])) {
      throw new TokenInvalidError(
        `The discovery document's ${name} must be an absolute https URL (http only on a loopback host); got ${JSON.stringify(d[name] ?? null)?.slice(0, 120)}`,
      );
    }
  }
  return d as unknown as ProviderMetadata;
}

/**
 * The algorithms an ID token may be signed with: the provider's `id_token_signing_alg_values_supported`
 * (OpenID Connect Discovery's default `RS256` when it lists none), never `none` and never an HMAC
 * algorithm — a public client has no secret, so an `HS256` token could be made by anyone who knows
 * the client id.
 *
 * @example
 * idTokenAlgorithms({ ...metadata, id_token_signing_alg_values_supported: ['RS256', 'HS256', 'none'] }); // ['RS256']
 */
export function idTokenAlgorithms(metadata: ProviderMetadata): string[] {
  const listed = metadata.id_token_signing_alg_values_supported;
  const named = Array.isArray(listed) ? listed.filter((alg): alg is string => typeof alg === 'string') : ['RS256'];
  return named.filter((alg) => alg !== 'none' && !alg.toUpperCase().startsWith('HS'));
}

/** A token endpoint's answer, read. */
export interface TokenAnswer {
  body: Record<string, unknown>;
  receivedAt: number;
  /** The provider's clock in ms, from its `Date` header when the page may read it; else null. */
  dateMs: number | null;
}

/** Request counters of the provider, in the shape of `stats().requests`. */
export interface ProviderCounts {
  /** 2xx answers to refresh-token grants. */
  mints: number;
  /** Token endpoint calls. */
  mint: number;
  /** Discovery and JWKS. */
  client: number;
  /** Revocation. */
  end: number;
}

/** `{ error, error_description }`, read defensively, as `OriginErrorEntry`s. */
function oauthErrors(text: string | null): OriginErrorEntry[] {
  const body = parseJsonObject(text);
  if (!body || typeof body.error !== 'string') return [];
  return [{ code: body.error, ...(typeof body.error_description === 'string' ? { message: body.error_description } : {}) }];
}

/**
 * @example
 * const provider = new ProviderClient(config.oidc, { clock, fetch });
 * const metadata = await provider.metadata();
 */
export class ProviderClient {
  readonly counts: ProviderCounts = { mints: 0, mint: 0, client: 0, end: 0 };
  readonly #config: OidcConfig;
  readonly #clock: Clock;
  readonly #fetch: typeof fetch;
  readonly #http: HttpClient;
  /**
   * The token endpoint's own client: `abortAll` (the engine closing, a local-mode leader handing
   * over) leaves its requests running, for the same reason as {@link TOKEN_REQUEST_TIMEOUT_MS}: an
   * answer may carry a rotated refresh token, which the grant lock lets it store.
   */
  readonly #tokenHttp: HttpClient;
  /** The remote key set, and the `jwks_uri` it was made for (a discovery document fetched again may move it). */
  #jwks: { url: string; keys: ReturnType<typeof createRemoteJWKSet> } | null = null;
  /** The last `DPoP-Nonce` the token endpoint gave: sent with the next proof. */
  #nonce: string | null = null;
  /** The provider's clock minus this one, ms, from the last readable `Date` header (0 within 2 s). */
  #offsetMs = 0;

  constructor(config: OidcConfig, deps: { clock: Clock; fetch: typeof fetch }) {
    this.#config = config;
    this.#clock = deps.clock;
    this.#fetch = deps.fetch;
    this.#http = new HttpClient({ clock: deps.clock, fetch: deps.fetch, credentials: 'omit' });
    this.#tokenHttp = new HttpClient({ clock: deps.clock, fetch: deps.fetch, credentials: 'omit' });
  }

  get failed(): number {
    return this.#http.failed + this.#tokenHttp.failed;
  }

  abortAll(): void {
    this.#http.abortAll();
  }

  /**
   * Now on the provider's clock as estimated: this clock moved by the offset of the last `Date`
   * header the provider let the page read (its CORS must expose `Date`). The times checked in ID
   * tokens and the `iat` of DPoP proofs use it, so a client clock that is minutes off still signs in.
   */
  now(): number {
    return this.#clock.now() + this.#offsetMs;
  }

  /** Sends one request and notes the provider's clock from its answer. */
  async #send(url: URL, init: RequestInit, http = this.#http, timeoutMs?: number): Promise<Received> {
    const received = await http.send(url, init, timeoutMs === undefined ? {} : { timeoutMs });
    if (received.dateMs !== null) {
      // A Date header counts whole seconds: the provider's time lies in [Date, Date + 1 s).
      const offset = received.dateMs + 500 - received.receivedAt;
      this.#offsetMs = Math.abs(offset) > 2000 ? offset : 0;
    }
    return received;
  }

  /**
   * Fetches the discovery document and checks it ({@link checkDiscovery}): a document that fails is
   * `TokenInvalidError`; an unreachable provider is `OriginUnavailableError`.
   */
  async discover(): Promise<ProviderMetadata> {
    this.counts.client++;
    const url = new URL(`${this.#config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
    const received = await this.#send(url, { method: 'GET', headers: { accept: 'application/json' } });
    if (!received.ok) throw this.#http.error(received, oauthErrors);
    const d = parseJsonObject(received.text);
    if (!d) throw new OriginResponseError(received.status, [], null, `The discovery document at ${url.href} is not a JSON object`);
    return checkDiscovery(d, this.#config.issuer);
  }

  /**
   * One token endpoint request: the form, a DPoP proof when the grant has a key, and — when the
   * provider answers `use_dpop_nonce` — the same request once more with its nonce.
   */
  async token(metadata: ProviderMetadata, form: Record<string, string>, key: CryptoKeyPair | null): Promise<TokenAnswer> {
    const body = new URLSearchParams({
      ...form,
      client_id: this.#config.clientId,
      ...(this.#config.resource ? { resource: this.#config.resource } : {}),
    }).toString();
    for (let attempt = 0; ; attempt++) {
      this.counts.mint++;
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
      if (key) headers.DPoP = await dpopProof(key, { htm: 'POST', htu: metadata.token_endpoint, nowS: Math.floor(this.now() / 1000), nonce: this.#nonce });
      const received = await this.#send(new URL(metadata.token_endpoint), { method: 'POST', body, headers }, this.#tokenHttp, TOKEN_REQUEST_TIMEOUT_MS);
      const nonce = received.headers.get('dpop-nonce');
      if (nonce) this.#nonce = nonce;
      if (received.ok) return { body: this.#json(received), receivedAt: received.receivedAt, dateMs: received.dateMs };
      const error = this.#http.error(received, oauthErrors);
      if (attempt === 0 && key && nonce && error.errors[0]?.code === 'use_dpop_nonce') continue;
      throw error;
    }
  }

  /** RFC 7009: revokes a refresh token. */
  async revoke(metadata: ProviderMetadata, refreshToken: string): Promise<void> {
    if (!metadata.revocation_endpoint) return;
    this.counts.end++;
    const body = new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token', client_id: this.#config.clientId }).toString();
    const received = await this.#send(new URL(metadata.revocation_endpoint), {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    if (!received.ok) throw this.#http.error(received, oauthErrors);
  }

  /**
   * An ID token verified with jose: its signature against the provider's JWKS with one of
   * {@link idTokenAlgorithms}; `iss`, `aud` (the client id), `exp` and `iat` present, `exp` judged at
   * the provider's time as estimated (`nowMs`); `azp` equal to the client id when present or when
   * `aud` names several audiences; `sub`; and — for a sign-in — `nonce`. A JWKS that cannot be
   * reached (network error, timeout, 5xx, 429) is `OriginUnavailableError`: the token is not known
   * to be bad, only not checkable now. Anything else that fails is `TokenInvalidError`.
   */
  async verifyIdToken(metadata: ProviderMetadata, idToken: unknown, o: { nowMs: number; nonce: string | null }): Promise<JWTPayload> {
    if (typeof idToken !== 'string') throw new TokenInvalidError('The token answer carries no id_token');
    const algorithms = idTokenAlgorithms(metadata);
    if (algorithms.length === 0)
      throw new TokenInvalidError('The provider lists no ID-token signing algorithm tabtoken accepts (none and HMAC algorithms are refused)');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, this.#keySet(metadata.jwks_uri), {
        issuer: this.#config.issuer,
        audience: this.#config.clientId,
        algorithms,
        // jose checks `exp` and `iat` only when they are there: OpenID Connect requires both.
        requiredClaims: ['exp', 'iat', 'sub'],
        currentDate: new Date(o.nowMs),
      }));
    } catch (cause) {
      if (cause instanceof OriginUnavailableError) throw cause;
      if (cause instanceof jose.JWKSTimeout) throw new OriginUnavailableError("The provider's JWKS did not answer in time", { cause });
      throw new TokenInvalidError(`The provider's ID token did not verify: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new TokenInvalidError('The ID token has no sub');
    // OpenID Connect Core 3.1.3.7: the authorized party must be this client when it is named, and
    // must be named when the token is for several audiences.
    if ((payload.azp !== undefined || (Array.isArray(payload.aud) && payload.aud.length > 1)) && payload.azp !== this.#config.clientId) {
      throw new TokenInvalidError(`The ID token was issued to another party (azp ${JSON.stringify(payload.azp ?? null)}), not to ${this.#config.clientId}`);
    }
    if (o.nonce !== null && payload.nonce !== o.nonce) throw new TokenInvalidError('The ID token carries another nonce than this sign-in sent');
    return payload;
  }

  /**
   * The provider's remote key set. Its fetches go without cookies and are counted; one that meets no
   * answer, or a 5xx or 429, fails as `OriginUnavailableError`, so a JWKS that is down is told apart
   * from a token that does not verify.
   */
  #keySet(jwksUri: string): ReturnType<typeof createRemoteJWKSet> {
    if (this.#jwks?.url === jwksUri) return this.#jwks.keys;
    const keys = createRemoteJWKSet(new URL(jwksUri), {
      [customFetch]: async (url: string, init: RequestInit) => {
        this.counts.client++;
        let response: Response;
        try {
          response = await this.#fetch(url, { ...init, credentials: 'omit' });
        } catch (cause) {
          // jose turns its own timeout (a TimeoutError) into JWKSTimeout: leave that one to it.
          if (cause instanceof Error && cause.name === 'TimeoutError') throw cause;
          throw new OriginUnavailableError(`The provider's JWKS could not be reached: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
        }
        if (response.status === 429 || response.status >= 500) {
          await response.body?.cancel().catch(() => undefined);
          throw new OriginUnavailableError(`The provider's JWKS answered ${response.status}`);
        }
        return response;
      },
    });
    this.#jwks = { url: jwksUri, keys };
    return keys;
  }

  #json(received: Received): Record<string, unknown> {
    if (received.text === null) throw new TokenInvalidError(`The token endpoint answered more than ${MAX_BODY_BYTES} bytes`);
    const body = parseJsonObject(received.text);
    if (!body) throw new TokenInvalidError('The token endpoint answered a body that is not a JSON object');
    return body;
  }
}
