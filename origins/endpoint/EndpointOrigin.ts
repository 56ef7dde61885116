/**
 * The app's own token endpoint as a token origin (SPEC 13): the third implementation of the
 * engine's seam. The app's server keeps the sign-in in a cookie of its own (often a refresh cookie
 * that rotates at every call) and hands out a short-lived access token at `tokenUrl`. The worker —
 * or the local-mode leader — is the only caller: every call runs under the Web Lock
 * `{worker key}:grant` and is never abandoned while the server may still answer, so a rotated
 * cookie is never lost to a timeout and never presented twice by this browser:
 *
 *   worker A  lock ── POST /auth/refresh (cookie C1) ─────────── 200, Set-Cookie C2 ── unlock
 *   worker B         (waits)                                                           lock ── POST (C2) …
 *
 * Loaded only by managers with the `endpoint` option (a chunk of its own).
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { Clock } from '../../protocol/clock.ts';
import { OriginResponseError, OriginUnavailableError, TokenInvalidError } from '../../protocol/errors.ts';
import { grantLockName, workerKey } from '../../protocol/names.ts';
import type { EndpointConfig, EngineConfig } from '../../protocol/types.ts';
import type { FailureKind, MintTarget, MintedToken, OriginCounters, SessionsAnswer, TokenFacts, TokenOrigin } from '../../engine/TokenOrigin.ts';
import { parseEndpointConfig } from './endpointConfig.ts';
import { ENDPOINT_TRAITS } from './traits.ts';
import { HttpClient, MAX_BODY_BYTES, parseJsonObject, type Received } from '../HttpClient.ts';
import type { JwksVerifier } from '../JwksVerifier.ts';

/** How long one call may run before it is given up: long past the callers' 10 s, so a late answer (and its cookie) is used. */
export const ENDPOINT_REQUEST_TIMEOUT_MS = 60_000;

/** What the adapter is given. */
export interface EndpointDeps {
  clock: Clock;
  fetch: typeof fetch;
  /** Web Locks, for the grant lock; without them (no secure context) calls are made one at a time in this worker only. */
  locks: LockManager | undefined;
}

/** The token of an answer and what it says about itself. */
interface Read {
  token: string;
  claims: Record<string, unknown> | null;
  iat: number | null;
  exp: number | null;
}

/**
 * @example
 * const origin = new EndpointOrigin(config, { clock: systemClock, fetch, locks: navigator.locks });
 * const answer = await origin.readSessions(); // { token } after a sign-in, { token: null } before
 */
export class EndpointOrigin implements TokenOrigin {
  readonly traits = ENDPOINT_TRAITS;
  readonly #endpoint: EndpointConfig;
  readonly #config: EngineConfig;
  readonly #clock: Clock;
  readonly #fetch: typeof fetch;
  readonly #http: HttpClient;
  readonly #locks: LockManager | undefined;
  readonly #lockName: string;
  /** Calls of this adapter, one after the other, where there are no Web Locks. */
  #chain: Promise<unknown> = Promise.resolve();
  #verifier: Promise<JwksVerifier> | null = null;
  readonly #counts = { mints: 0, mint: 0, client: 0, end: 0 };

  constructor(config: EngineConfig, deps: EndpointDeps) {
    this.#endpoint = parseEndpointConfig(config.endpoint);
    this.#config = config;
    this.#clock = deps.clock;
    this.#fetch = deps.fetch;
    this.#locks = deps.locks;
    this.#lockName = grantLockName(workerKey(config));
    this.#http = new HttpClient({ clock: deps.clock, fetch: deps.fetch, credentials: this.#endpoint.credentials });
  }

  counters(): OriginCounters {
    return { ...this.#counts, failed: this.#http.failed };
  }

  /** Not abandoned on close either: an answer under way may carry the rotated cookie, which the browser stores whoever reads it. */
  abortAll(): void {}

  /** Signed in or not is what the endpoint answers now: a token, or 401/403. */
  async readSessions(): Promise<SessionsAnswer> {
    try {
      return { token: await this.mint() };
    } catch (error) {
      if (this.classify(error) === 'signout') return { token: null };
      throw error;
    }
  }

  /** One call to `tokenUrl` (the cookie is the credential: the session id plays no part in it). */
  mint(_sessionId?: string, _target?: MintTarget, _expiredToken?: string | null): Promise<MintedToken> {
    return this.#locked(async () => {
      this.#counts.mint++;
      const { tokenUrl, method } = this.#endpoint;
      const received = await this.#send(tokenUrl, method);
      if (!received.ok) throw this.#http.error(received);
      this.#counts.mints++;
      return this.#minted(received);
    });
  }

  /** POSTs `signOutUrl` when there is one; the engine signs every tab out whatever it answers. */
  async endSession(): Promise<void> {
    const { signOutUrl } = this.#endpoint;
    if (signOutUrl === null) return;
    await this.#locked(async () => {
      this.#counts.end++;
      const received = await this.#send(signOutUrl, 'POST');
      if (!received.ok) throw this.#http.error(received);
    });
  }

  classify(error: unknown): FailureKind {
    if (error instanceof OriginUnavailableError) return 'outage';
    if (!(error instanceof OriginResponseError)) return 'error';
    if (error.status === 401 || error.status === 403) return 'signout';
    return error.status === 429 || error.status >= 500 ? 'outage' : 'error';
  }

  /** A stored JWT read back (its claims and life); an opaque token cannot be, and is asked for again. */
  inspect(jwt: string): TokenFacts | null {
    const read = readToken(jwt);
    return read.iat !== null && read.exp !== null && read.exp > read.iat
      ? { oiat: null, iat: read.iat, lifetimeS: read.exp - read.iat, claims: read.claims }
      : null;
  }

  #send(url: string, method: 'GET' | 'POST'): Promise<Received> {
    // No body and no Content-Type: a "simple" request to a same-origin endpoint, with the app's static headers (a CSRF header, say).
    return this.#http.send(new URL(url), { method, headers: { ...this.#endpoint.headers } }, { timeoutMs: ENDPOINT_REQUEST_TIMEOUT_MS });
  }

  /**
   * The token of a 2xx answer, placed on this machine's clock: `expires_in` seconds from its arrival,
   * else the JWT's `exp` measured against the server's time (its `Date` header, else the token's `iat`).
   */
  async #minted(received: Received): Promise<MintedToken> {
    if (received.text === null) throw new TokenInvalidError(`The token endpoint answered more than ${MAX_BODY_BYTES} bytes`);
    const body = parseJsonObject(received.text);
    const token = [body?.access_token, body?.token, body?.jwt].find((t) => t !== undefined);
    if (typeof token !== 'string' || token === '' || token.length > 64 * 1024)
      throw new TokenInvalidError('The token endpoint answered without a token (access_token, token or jwt)');
    const read = readToken(token);
    const originNow = received.dateMs !== null ? received.dateMs / 1000 : read.iat;
    const expiresIn = body?.expires_in;
    let lifetimeS: number;
    if (typeof expiresIn === 'number' && expiresIn > 0 && Number.isFinite(expiresIn)) lifetimeS = expiresIn;
    else if (read.exp !== null && originNow !== null) lifetimeS = read.exp - originNow;
    else throw new TokenInvalidError("The token endpoint answered neither expires_in nor a JWT with exp: the token's life is unknown");
    // A JWT already expired by the server's own clock is refused, whatever expires_in says.
    if (read.exp !== null && originNow !== null && read.exp <= originNow)
      throw new TokenInvalidError(`The token endpoint answered a token that had already expired by its own clock (exp ${read.exp})`);
    if (!(lifetimeS > 0)) throw new TokenInvalidError('The token endpoint answered a token with no time left');
    if (this.#config.verify && read.claims) await this.#verify(token, originNow ?? this.#clock.now() / 1000);
    const iat = read.iat ?? Math.floor(received.receivedAt / 1000);
    return { jwt: token, expiresAt: received.receivedAt + lifetimeS * 1000, oiat: null, iat, lifetimeS, claims: read.claims };
  }

  async #verify(jwt: string, originNowS: number): Promise<void> {
    const verify = this.#config.verify!;
    try {
      this.#verifier ??= import('../JwksVerifier.ts').then(({ JwksVerifier }) => new JwksVerifier(verify, this.#fetch));
      await (await this.#verifier).verify(jwt, originNowS);
    } catch (cause) {
      // A failed chunk load must not poison every later token.
      if (!(cause instanceof Error && 'code' in cause)) this.#verifier = null;
      throw new TokenInvalidError(`The token's signature did not verify against ${verify.jwksUrl}`, { cause });
    }
  }

  /** Runs `call` under the grant lock (or, without Web Locks, after every earlier call of this adapter). */
  #locked<T>(call: () => Promise<T>): Promise<T> {
    if (this.#locks) return this.#locks.request(this.#lockName, call) as Promise<T>;
    const next = this.#chain.then(call, call);
    this.#chain = next.catch(() => {});
    return next;
  }
}

/** A token as the adapter reads it: a JWT's claims and times, or nothing for an opaque token. A JWT signed with `none` is refused. */
function readToken(token: string): Read {
  let claims: Record<string, unknown>;
  let alg: unknown;
  try {
    claims = decodeJwt(token);
    alg = decodeProtectedHeader(token).alg;
  } catch {
    return { token, claims: null, iat: null, exp: null };
  }
  if (typeof alg !== 'string' || alg.toLowerCase() === 'none') throw new TokenInvalidError(`The token endpoint answered an unsigned JWT (alg ${String(alg)})`);
  const time = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return { token, claims: Object.freeze({ ...claims }), iat: time(claims.iat), exp: time(claims.exp) };
}
