/**
 * The HTTP side of an OpenID provider: the discovery document, the token endpoint (with DPoP
 * proofs and their nonces), revocation, and ID tokens verified with jose against the provider's
 * JWKS. Every request goes with `credentials: 'omit'`, the 10 s timeout and the 1 MB cap of
 * HttpClient; every answer is read defensively.
 */
import { createRemoteJWKSet, customFetch, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../../protocol/clock.ts';
import { InvalidArgumentError, OriginResponseError, TokenInvalidError, type OriginErrorEntry } from '../../protocol/errors.ts';
import type { OidcConfig } from '../../protocol/types.ts';
import { HttpClient, MAX_BODY_BYTES, parseJsonObject, type Received } from '../HttpClient.ts';
import { dpopProof } from './dpop.ts';

/** The parts of a discovery document tabtoken uses, checked. */
export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  revocation_endpoint?: string;
  end_session_endpoint?: string;
  dpop_signing_alg_values_supported?: string[];
  authorization_response_iss_parameter_supported?: boolean;
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

const isUrl = (value: unknown): value is string => typeof value === 'string' && URL.canParse(value) && /^https?:/.test(value);

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
  #jwks: ReturnType<typeof createRemoteJWKSet> | null = null;
  /** The last `DPoP-Nonce` the token endpoint gave: sent with the next proof. */
  #nonce: string | null = null;
  /** The provider's clock minus this one, ms, from the last readable `Date` header (0 within 2 s). */
  #offsetMs = 0;

  constructor(config: OidcConfig, deps: { clock: Clock; fetch: typeof fetch }) {
    this.#config = config;
    this.#clock = deps.clock;
    this.#fetch = deps.fetch;
    this.#http = new HttpClient({ clock: deps.clock, fetch: deps.fetch, credentials: 'omit' });
  }

  get failed(): number {
    return this.#http.failed;
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
  async #send(url: URL, init: RequestInit): Promise<Received> {
    const received = await this.#http.send(url, init);
    if (received.dateMs !== null) {
      // A Date header counts whole seconds: the provider's time lies in [Date, Date + 1 s).
      const offset = received.dateMs + 500 - received.receivedAt;
      this.#offsetMs = Math.abs(offset) > 2000 ? offset : 0;
    }
    return received;
  }

  /**
   * Fetches and checks the discovery document: its `issuer` must be the option byte for byte (a
   * provider answering for another issuer is refused), and its endpoints http(s) URLs.
   */
  async discover(): Promise<ProviderMetadata> {
    this.counts.client++;
    const url = new URL(`${this.#config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
    const received = await this.#send(url, { method: 'GET', headers: { accept: 'application/json' } });
    if (!received.ok) throw this.#http.error(received, oauthErrors);
    const d = parseJsonObject(received.text);
    if (!d) throw new OriginResponseError(received.status, [], null, `The discovery document at ${url.href} is not a JSON object`);
    if (d.issuer !== this.#config.issuer) {
      throw new InvalidArgumentError(`oidc.issuer is ${JSON.stringify(this.#config.issuer)} but the provider's discovery document names ${JSON.stringify(d.issuer)}: they must be equal byte for byte`);
    }
    for (const name of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
      if (!isUrl(d[name])) throw new OriginResponseError(received.status, [], null, `The discovery document has no usable ${name}`);
    }
    return d as unknown as ProviderMetadata;
  }

  /**
   * One token endpoint request: the form, a DPoP proof when the grant has a key, and — when the
   * provider answers `use_dpop_nonce` — the same request once more with its nonce.
   */
  async token(metadata: ProviderMetadata, form: Record<string, string>, key: CryptoKeyPair | null): Promise<TokenAnswer> {
    const body = new URLSearchParams({ ...form, client_id: this.#config.clientId, ...(this.#config.resource ? { resource: this.#config.resource } : {}) }).toString();
    for (let attempt = 0; ; attempt++) {
      this.counts.mint++;
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
      if (key) headers.DPoP = await dpopProof(key, { htm: 'POST', htu: metadata.token_endpoint, nowS: Math.floor(this.now() / 1000), nonce: this.#nonce });
      const received = await this.#send(new URL(metadata.token_endpoint), { method: 'POST', body, headers });
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
    const received = await this.#send(new URL(metadata.revocation_endpoint), { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    if (!received.ok) throw this.#http.error(received, oauthErrors);
  }

  /**
   * An ID token verified with jose: its signature against the provider's JWKS, `iss`, `aud` (the
   * client id), `exp` at the provider's time as estimated (`nowMs`), and — for a sign-in — `nonce`.
   */
  async verifyIdToken(metadata: ProviderMetadata, idToken: unknown, o: { nowMs: number; nonce: string | null }): Promise<JWTPayload> {
    if (typeof idToken !== 'string') throw new TokenInvalidError('The token answer carries no id_token');
    this.#jwks ??= createRemoteJWKSet(new URL(metadata.jwks_uri), {
      [customFetch]: (url: string, init: RequestInit) => {
        this.counts.client++;
        return this.#fetch(url, { ...init, credentials: 'omit' });
      },
    });
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, this.#jwks, { issuer: this.#config.issuer, audience: this.#config.clientId, currentDate: new Date(o.nowMs) }));
    } catch (cause) {
      throw new TokenInvalidError(`The provider's ID token did not verify: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    if (o.nonce !== null && payload.nonce !== o.nonce) throw new TokenInvalidError('The ID token carries another nonce than this sign-in sent');
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new TokenInvalidError('The ID token has no sub');
    return payload;
  }

  #json(received: Received): Record<string, unknown> {
    if (received.text === null) throw new TokenInvalidError(`The token endpoint answered more than ${MAX_BODY_BYTES} bytes`);
    const body = parseJsonObject(received.text);
    if (!body) throw new TokenInvalidError('The token endpoint answered a body that is not a JSON object');
    return body;
  }
}
