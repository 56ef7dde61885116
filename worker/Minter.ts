import { REQUEST_TIMEOUT_MS } from '../protocol/constants.ts';
import { OriginResponseError, OriginUnavailableError, TokenInvalidError, type OriginErrorEntry } from '../protocol/errors.ts';
import type { EngineConfig } from '../protocol/types.ts';
import type { Clock } from './Clock.ts';
import { RetryPolicy } from './RetryPolicy.ts';
import { TokenValidator, type ValidToken } from './TokenValidator.ts';

/** Responses larger than this are refused unread: a token is a few hundred bytes. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** What identifies a token at the origin (the non-session parts of a cache key). */
export interface MintTarget {
  template: string | null;
  organizationId: string | null;
  expiresInSeconds: number | null;
}

/** A validated token plus where it sits on this machine's clock. */
export interface MintedToken extends ValidToken {
  /** Local time the response arrived. */
  receivedAt: number;
  /** `receivedAt + (exp − originNow)·1000` (SPEC 3). */
  expiresAt: number;
}

/** Request counters; the engine reports them through `stats()`. */
export interface MinterCounters {
  /** 2xx answers of the token routes. */
  mints: number;
  mint: number;
  client: number;
  end: number;
  /** Requests that got no 2xx: network error, timeout, or an HTTP error status. */
  failed: number;
}

interface Received {
  status: number;
  ok: boolean;
  text: string | null;
  headers: Headers;
  receivedAt: number;
  /** The `Date` header in ms, null when absent or unreadable. */
  dateMs: number | null;
}

/**
 * The HTTP side of the engine (SPEC 5): token mints, `GET {client}` and `POST {endSession}`,
 * each with a 10 s timeout on the injected clock and a 1 MB body cap. It classifies failures into
 * the error classes and leaves every decision (retry, sign out, outage) to its callers:
 * - network error or timeout → `OriginUnavailableError`;
 * - an HTTP error status → `OriginResponseError` with `status`, `errors` and `retryAfter`;
 * - a 2xx that does not carry a valid token → `TokenInvalidError`.
 *
 * @example
 * const minter = new Minter(config, { clock: systemClock, fetch, validator: new TokenValidator(null, fetch) });
 * const token = await minter.mint('sess_1', { template: null, organizationId: null, expiresInSeconds: null }, null);
 */
export class Minter {
  readonly #config: EngineConfig;
  readonly #clock: Clock;
  readonly #fetch: typeof fetch;
  readonly #validator: TokenValidator;
  readonly #counters: MinterCounters = { mints: 0, mint: 0, client: 0, end: 0, failed: 0 };
  /** Aborts of the requests in flight, so `abortAll` can stop them and their timers. */
  readonly #inFlight = new Set<() => void>();

  constructor(config: EngineConfig, deps: { clock: Clock; fetch: typeof fetch; validator: TokenValidator }) {
    this.#config = config;
    this.#clock = deps.clock;
    this.#fetch = deps.fetch;
    this.#validator = deps.validator;
  }

  get counters(): Readonly<MinterCounters> {
    return { ...this.#counters };
  }

  /**
   * Mints one token. `expiredToken` is the lastActiveToken sent as `?expired_token=` when the origin
   * is in outage mode and asked for it.
   */
  async mint(sessionId: string, target: MintTarget, expiredToken: string | null): Promise<MintedToken> {
    const path = target.template === null
      ? this.#path(this.#config.endpoints.token, sessionId, null)
      : this.#path(this.#config.endpoints.templateToken, sessionId, target.template);
    const url = this.#url(path);
    if (expiredToken !== null) url.searchParams.set('expired_token', expiredToken);
    const body = new URLSearchParams();
    if (target.organizationId !== null) body.set('organization_id', target.organizationId);
    // With or without a template: a call with expiresInSeconds alone still asks for its own token.
    if (target.expiresInSeconds !== null) body.set('expires_in_seconds', String(target.expiresInSeconds));

    this.#counters.mint++;
    const received = await this.#send(url, { method: 'POST', body: body.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    if (!received.ok) throw this.#httpError(received);
    this.#counters.mints++;

    if (received.text === null) throw new TokenInvalidError(`The origin's token response is larger than ${MAX_BODY_BYTES} bytes`);
    const jwt = readTokenBody(received.text);
    const dateS = received.dateMs === null ? null : Math.floor(received.dateMs / 1000);
    const token = await this.#validator.validate(jwt, { sessionId, dateSeconds: dateS });
    const originNow = TokenValidator.originNow(token.iat, dateS);
    return { ...token, receivedAt: received.receivedAt, expiresAt: received.receivedAt + (token.exp - originNow) * 1000 };
  }

  /**
   * `GET {client}`: the parsed JSON of a 2xx answer (validated by `SessionDiscovery`), and how far
   * this machine's clock is ahead of the origin's (from the `Date` header; 0 without one), to place
   * the origin's times on the local clock. A 2xx whose body is unreadable is an
   * `OriginResponseError` with that 2xx status.
   */
  async getClient(): Promise<{ body: unknown; skewMs: number }> {
    this.#counters.client++;
    const received = await this.#send(this.#url(this.#config.endpoints.client), { method: 'GET' });
    if (!received.ok) throw this.#httpError(received);
    if (received.text === null) throw new OriginResponseError(received.status, [], null, `GET client answered a body larger than ${MAX_BODY_BYTES} bytes`);
    try {
      return { body: JSON.parse(received.text) as unknown, skewMs: received.dateMs === null ? 0 : received.receivedAt - received.dateMs };
    } catch (cause) {
      throw new OriginResponseError(received.status, [], null, 'GET client answered a body that is not JSON', { cause });
    }
  }

  /** `POST {endSession}`: resolves on a 2xx, throws like every other request otherwise. */
  async endSession(sessionId: string): Promise<void> {
    this.#counters.end++;
    const url = this.#url(this.#path(this.#config.endpoints.endSession, sessionId, null));
    const received = await this.#send(url, { method: 'POST', body: '', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    if (!received.ok) throw this.#httpError(received);
  }

  /** Aborts every request in flight and clears its timer (the engine is closing). */
  abortAll(): void {
    for (const abort of [...this.#inFlight]) abort();
  }

  #path(template: string, sessionId: string, tokenTemplate: string | null): string {
    let path = template.replaceAll('{sid}', encodeURIComponent(sessionId));
    if (tokenTemplate !== null) path = path.replaceAll('{template}', encodeURIComponent(tokenTemplate));
    return path;
  }

  #url(path: string): URL {
    return new URL(this.#config.frontendApi + path);
  }

  /**
   * One request with the timeout covering headers and body alike: an origin that sends headers and
   * then stalls must not hold a mint forever.
   */
  async #send(url: URL, init: RequestInit): Promise<Received> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = this.#clock.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, REQUEST_TIMEOUT_MS);
    const abort = (): void => {
      this.#clock.clearTimeout(timer);
      controller.abort();
    };
    this.#inFlight.add(abort);
    try {
      const response = await this.#fetch(url.href, { ...init, credentials: this.#config.credentials, signal: controller.signal });
      const receivedAt = this.#clock.now();
      const text = await readCapped(response, MAX_BODY_BYTES);
      const dateHeader = response.headers.get('date');
      const dateMs = dateHeader === null ? null : Date.parse(dateHeader);
      const received: Received = {
        status: response.status,
        ok: response.ok,
        text,
        headers: response.headers,
        receivedAt,
        dateMs: dateMs === null || Number.isNaN(dateMs) ? null : dateMs,
      };
      if (!received.ok) this.#counters.failed++;
      return received;
    } catch (cause) {
      this.#counters.failed++;
      throw new OriginUnavailableError(
        timedOut
          ? `The token origin did not answer ${url.pathname} within ${REQUEST_TIMEOUT_MS / 1000} s`
          : `The token origin could not be reached (${url.pathname}): ${cause instanceof Error ? cause.message : String(cause)}${this.#corsHint(url)}`,
        { cause },
      );
    } finally {
      this.#clock.clearTimeout(timer);
      this.#inFlight.delete(abort);
    }
  }

  /**
   * A browser reports a refused CORS request exactly like an unreachable server. When the origin is
   * another origin than the app's, the message says what to check.
   */
  #corsHint(url: URL): string {
    const own = globalThis.location?.origin;
    return own && own !== url.origin ? ` (if ${url.origin} is up, check that it allows ${own} with credentials: CORS)` : '';
  }

  #httpError(received: Received): OriginResponseError {
    const originNowMs = received.dateMs ?? this.#clock.now();
    const retryAfter = RetryPolicy.parseRetryAfter(received.headers.get('retry-after'), originNowMs);
    return new OriginResponseError(received.status, parseErrorBody(received.text), retryAfter);
  }
}

/** `{ object: 'token', jwt }` or a `TokenInvalidError`. */
function readTokenBody(text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw new TokenInvalidError('The origin answered the token request with a body that is not JSON', { cause });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new TokenInvalidError('The origin answered the token request without a token object');
  const { object, jwt } = body as Record<string, unknown>;
  if (object !== 'token') throw new TokenInvalidError(`The origin answered the token request with object ${JSON.stringify(object ?? null)}, not "token"`);
  if (typeof jwt !== 'string' || jwt.length === 0) throw new TokenInvalidError('The origin answered the token request without a jwt string');
  return jwt;
}

/**
 * `{ errors: [{ code, message?, long_message? }] }`, read defensively: an HTML error page from a
 * proxy, an empty body or any other shape gives `[]`, and only string fields are kept.
 */
export function parseErrorBody(text: string | null): OriginErrorEntry[] {
  if (text === null || text.length === 0) return [];
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [];
  }
  if (typeof body !== 'object' || body === null) return [];
  const errors = (body as Record<string, unknown>).errors;
  if (!Array.isArray(errors)) return [];
  const out: OriginErrorEntry[] = [];
  for (const e of errors.slice(0, 20)) {
    if (typeof e !== 'object' || e === null) continue;
    const { code, message, long_message } = e as Record<string, unknown>;
    if (typeof code !== 'string') continue;
    const entry: OriginErrorEntry = { code };
    if (typeof message === 'string') entry.message = message;
    if (typeof long_message === 'string') entry.long_message = long_message;
    out.push(entry);
  }
  return out;
}

/**
 * Reads a body as UTF-8 text, stopping at `max` bytes: returns null (and cancels the stream) when
 * the body is larger, so a hostile or broken origin cannot make the worker buffer gigabytes.
 */
async function readCapped(response: Response, max: number): Promise<string | null> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await response.body?.cancel().catch(() => undefined);
    return null;
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    text += decoder.decode(value, { stream: true });
  }
}
