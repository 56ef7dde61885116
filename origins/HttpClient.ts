import { REQUEST_TIMEOUT_MS } from '../protocol/constants.ts';
import type { Clock } from '../protocol/clock.ts';
import { OriginResponseError, OriginUnavailableError, isRecord, type OriginErrorEntry } from '../protocol/errors.ts';

/** Responses larger than this are refused unread: a token answer is a few kilobytes. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** One answer, read whole (or refused as too large). */
export interface Received {
  status: number;
  ok: boolean;
  /** The body as text; null when it was larger than `MAX_BODY_BYTES`. */
  text: string | null;
  headers: Headers;
  /** Local time the response arrived. */
  receivedAt: number;
  /** The `Date` header in ms, null when absent or unreadable. */
  dateMs: number | null;
}

/** What one request may set beyond `RequestInit`. */
export interface SendOptions {
  /**
   * How long the request may take, headers and body, in ms (default `REQUEST_TIMEOUT_MS`, 10 s). An
   * OpenID Connect token-endpoint request takes 60 s: its answer may carry a rotated refresh token,
   * and giving up while the provider may still answer would lose it (SPEC 11).
   */
  timeoutMs?: number;
}

/**
 * The HTTP side shared by every token origin: one request with a timeout on the injected clock
 * (10 s unless the request asks for another) covering headers and body alike, a 1 MB body cap, and
 * the failure classes:
 * - network error or timeout → `OriginUnavailableError` (the message names CORS when the origin is
 *   another origin than the page's);
 * - an HTTP error status → `OriginResponseError` (`error(received)`), with `status`, `errors` and
 *   `retryAfter`.
 *
 * @example
 * const http = new HttpClient({ clock: systemClock, fetch, credentials: 'include' });
 * const received = await http.send(new URL('https://clerk.example.com/v1/client'), { method: 'GET' });
 */
export class HttpClient {
  readonly #clock: Clock;
  readonly #fetch: typeof fetch;
  readonly #credentials: RequestCredentials;
  /** Aborts of the requests in flight, so `abortAll` can stop them and their timers. */
  readonly #inFlight = new Set<() => void>();
  /** Requests that got no 2xx: network error, timeout, or an HTTP error status. */
  failed = 0;

  constructor(deps: { clock: Clock; fetch: typeof fetch; credentials: RequestCredentials }) {
    this.#clock = deps.clock;
    this.#fetch = deps.fetch;
    this.#credentials = deps.credentials;
  }

  /**
   * One request with the timeout covering headers and body alike: an origin that sends headers and
   * then stalls must not hold a mint forever.
   *
   * @example
   * const received = await http.send(tokenEndpoint, { method: 'POST', body }, { timeoutMs: 60_000 });
   */
  async send(url: URL, init: RequestInit, options: SendOptions = {}): Promise<Received> {
    const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    const controller = new AbortController();
    let timedOut = false;
    const timer = this.#clock.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const abort = (): void => {
      this.#clock.clearTimeout(timer);
      controller.abort();
    };
    this.#inFlight.add(abort);
    try {
      const response = await this.#fetch(url.href, { ...init, credentials: this.#credentials, signal: controller.signal });
      const receivedAt = this.#clock.now();
      const text = await readCapped(response, MAX_BODY_BYTES);
      const dateHeader = response.headers.get('date');
      const dateMs = dateHeader === null ? NaN : Date.parse(dateHeader);
      if (!response.ok) this.failed++;
      return { status: response.status, ok: response.ok, text, headers: response.headers, receivedAt, dateMs: Number.isNaN(dateMs) ? null : dateMs };
    } catch (cause) {
      this.failed++;
      throw new OriginUnavailableError(
        timedOut
          ? `The token origin did not answer ${url.pathname} within ${timeoutMs / 1000} s`
          : `The token origin could not be reached (${url.pathname}): ${cause instanceof Error ? cause.message : String(cause)}${corsHint(url)}`,
        { cause },
      );
    } finally {
      this.#clock.clearTimeout(timer);
      this.#inFlight.delete(abort);
    }
  }

  /** The `OriginResponseError` of an answer that is not a 2xx; `parse` reads the error body. */
  error(received: Received, parse: (text: string | null) => OriginErrorEntry[] = parseErrorBody): OriginResponseError {
    const originNowMs = received.dateMs ?? this.#clock.now();
    const retryAfter = parseRetryAfter(received.headers.get('retry-after'), originNowMs);
    return new OriginResponseError(received.status, parse(received.text), retryAfter);
  }

  /** Aborts every request in flight and clears its timer (the engine is closing). */
  abortAll(): void {
    for (const abort of [...this.#inFlight]) abort();
  }
}

/**
 * A browser reports a refused CORS request exactly like an unreachable server. When the origin is
 * another origin than the app's, the message says what to check.
 */
function corsHint(url: URL): string {
  const own = globalThis.location?.origin;
  return own && own !== url.origin ? ` (is it up, and does its CORS allow ${own} with credentials?)` : '';
}

/**
 * `{ errors: [{ code, message?, long_message? }] }`, read defensively: an HTML error page from a
 * proxy, an empty body or any other shape gives `[]`, and only string fields are kept.
 */
export function parseErrorBody(text: string | null): OriginErrorEntry[] {
  const errors = parseJsonObject(text)?.errors;
  if (!Array.isArray(errors)) return [];
  const out: OriginErrorEntry[] = [];
  for (const e of errors.slice(0, 20)) {
    if (!isRecord(e)) continue;
    const { code, message, long_message } = e;
    if (typeof code !== 'string') continue;
    const entry: OriginErrorEntry = { code };
    if (typeof message === 'string') entry.message = message;
    if (typeof long_message === 'string') entry.long_message = long_message;
    out.push(entry);
  }
  return out;
}

/** The JSON object in `text`, or null for anything else (not JSON, an array, a string, empty). */
export function parseJsonObject(text: string | null): Record<string, unknown> | null {
  if (text === null || text.length === 0) return null;
  try {
    const body: unknown = JSON.parse(text);
    return isRecord(body) ? body : null;
  } catch {
    return null;
  }
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

/**
 * Parses a `Retry-After` value, delta-seconds or an HTTP date, into seconds from `originNowMs`
 * (the response's own `Date`, so a client clock that is off does not skew an HTTP date).
 * Returns null for a missing or unreadable header.
 */
export function parseRetryAfter(value: string | null, originNowMs: number): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - originNowMs) / 1000));
}
