/**
 * Node helpers that call a token origin's backend API with the secret key (the `tabtoken/testing`
 * entry). Every answer is checked field by field before it is returned: a test that gets a
 * value from here can trust its type.
 */
import { MAX_EXPIRES_IN_SECONDS, SESSION_ID_PATTERN, TEMPLATE_PATTERN } from '../protocol/constants.ts';
import { InvalidArgumentError, type OriginErrorEntry } from '../protocol/errors.ts';

/** A test session token (seed 001), in camelCase. Times are epoch milliseconds. */
export interface TestSessionToken {
  id: string;
  userId: string;
  /** The secret a browser presents by opening `url`. */
  token: string;
  status: 'pending' | 'accepted' | 'revoked';
  /** Opening it in a browser signs that browser in as `userId`. */
  url: string;
  createdAt: number;
  updatedAt: number;
}

/**
 * The backend API answered with an error, answered something malformed, or could not be reached.
 * `status` is the HTTP status (0 when there was no answer); `code` is the first error code of the
 * body, or `malformed_response`, `http_error` (an error without a readable body) or `network_error`.
 *
 * @example
 * try { await revokeTestSessionToken({ apiUrl, secretKey, id }); }
 * catch (e) { if (e instanceof TestingApiError && e.code === 'test_session_token_not_found') … }
 */
export class TestingApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: OriginErrorEntry[];

  constructor(status: number, code: string, message: string, errors: OriginErrorEntry[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new InvalidArgumentError(`${name} must be a non-empty string`);
  return value;
}

function endpoint(apiUrl: unknown, path: string): string {
  const base = requireString('apiUrl', apiUrl);
  let url: URL;
  try {
    url = new URL(base);
  } catch (cause) {
    throw new InvalidArgumentError(`apiUrl must be an absolute http(s) URL, got ${JSON.stringify(base)}`, { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`apiUrl must be an http(s) URL, got ${JSON.stringify(base)}`);
  // Appended, not resolved, so an apiUrl with a path prefix (a proxy) keeps it.
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}${path}`;
}

function errorEntries(body: unknown): OriginErrorEntry[] {
  if (!isRecord(body) || !Array.isArray(body.errors)) return [];
  return body.errors.flatMap((e): OriginErrorEntry[] => {
    if (!isRecord(e) || typeof e.code !== 'string') return [];
    const entry: OriginErrorEntry = { code: e.code };
    if (typeof e.message === 'string') entry.message = e.message;
    if (typeof e.long_message === 'string') entry.long_message = e.long_message;
    return [entry];
  });
}

/** POSTs JSON with the secret key and returns the parsed 2xx body; throws `TestingApiError` otherwise. */
async function post(url: string, secretKey: string, body: Json): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      redirect: 'manual',
    });
  } catch (cause) {
    throw new TestingApiError(0, 'network_error', `POST ${url} failed: ${cause instanceof Error ? cause.message : String(cause)}`, [], { cause });
  }
  const text = await res.text();
  let parsed: unknown;
  let isJson = true;
  try {
    parsed = JSON.parse(text);
  } catch {
    isJson = false;
  }
  if (res.status < 200 || res.status > 299) {
    const errors = isJson ? errorEntries(parsed) : [];
    const first = errors[0];
    const detail = first ? `${first.code}${first.long_message ? `: ${first.long_message}` : first.message ? `: ${first.message}` : ''}` : 'no error body';
    throw new TestingApiError(res.status, first?.code ?? 'http_error', `POST ${url} answered ${res.status} (${detail})`, errors);
  }
  if (!isJson) throw new TestingApiError(res.status, 'malformed_response', `POST ${url} answered ${res.status} with a body that is not JSON`);
  return { status: res.status, body: parsed };
}

function malformed(url: string, status: number, what: string): TestingApiError {
  return new TestingApiError(status, 'malformed_response', `POST ${url} answered a malformed body: ${what}`);
}

const STATUSES: readonly TestSessionToken['status'][] = ['pending', 'accepted', 'revoked'];

function toTestSessionToken(url: string, { status: httpStatus, body }: { status: number; body: unknown }): TestSessionToken {
  if (!isRecord(body)) throw malformed(url, httpStatus, 'not a JSON object');
  if (body.object !== 'test_session_token') throw malformed(url, httpStatus, 'object is not "test_session_token"');
  for (const field of ['id', 'user_id', 'token', 'url'] as const) {
    if (typeof body[field] !== 'string' || body[field] === '') throw malformed(url, httpStatus, `${field} is not a non-empty string`);
  }
  const status = STATUSES.find((s) => s === body.status);
  if (!status) throw malformed(url, httpStatus, `status is not one of ${STATUSES.join(', ')}`);
  for (const field of ['created_at', 'updated_at'] as const) {
    if (typeof body[field] !== 'number' || !Number.isFinite(body[field])) throw malformed(url, httpStatus, `${field} is not a number`);
  }
  if (!URL.canParse(body.url as string)) throw malformed(url, httpStatus, 'url is not an absolute URL');
  return {
    id: body.id as string,
    userId: body.user_id as string,
    token: body.token as string,
    status,
    url: body.url as string,
    createdAt: body.created_at as number,
    updatedAt: body.updated_at as number,
  };
}

/**
 * Creates a test session token for a user: opening its `url` in a browser signs that browser in.
 *
 * @example
 * const t = await createTestSessionToken({ apiUrl: 'http://127.0.0.1:5173', secretKey: 'sk_test_tabtoken', userId: 'user_alice' });
 * await page.goto(t.url); // the page's browser is now signed in as user_alice
 */
export async function createTestSessionToken(o: {
  apiUrl: string;
  secretKey: string;
  userId: string;
  sessionMaxDurationInSeconds?: number;
  redirectUrl?: string;
}): Promise<TestSessionToken> {
  const url = endpoint(o.apiUrl, '/v1/test_session_tokens');
  const secretKey = requireString('secretKey', o.secretKey);
  const body: Json = { user_id: requireString('userId', o.userId) };
  if (o.sessionMaxDurationInSeconds !== undefined) {
    if (!Number.isSafeInteger(o.sessionMaxDurationInSeconds) || o.sessionMaxDurationInSeconds <= 0) {
      throw new InvalidArgumentError('sessionMaxDurationInSeconds must be a positive integer');
    }
    body.session_max_duration_in_seconds = o.sessionMaxDurationInSeconds;
  }
  if (o.redirectUrl !== undefined) body.redirect_url = requireString('redirectUrl', o.redirectUrl);
  return toTestSessionToken(url, await post(url, secretKey, body));
}

/**
 * Revokes a test session token; the session its acceptance created (if any) ends.
 *
 * @example
 * const revoked = await revokeTestSessionToken({ apiUrl, secretKey, id: t.id }); // revoked.status === 'revoked'
 */
export async function revokeTestSessionToken(o: { apiUrl: string; secretKey: string; id: string }): Promise<TestSessionToken> {
  const url = endpoint(o.apiUrl, `/v1/test_session_tokens/${encodeURIComponent(requireString('id', o.id))}/revoke`);
  return toTestSessionToken(url, await post(url, requireString('secretKey', o.secretKey), {}));
}

/**
 * Mints a session token for any session from the server side (no browser cookie needed).
 *
 * @example
 * const jwt = await getSessionToken({ apiUrl, secretKey, sessionId: 'sess_…', template: 'api', expiresInSeconds: 3600 });
 */
export async function getSessionToken(o: {
  apiUrl: string;
  secretKey: string;
  sessionId: string;
  template?: string;
  expiresInSeconds?: number;
}): Promise<string> {
  if (typeof o.sessionId !== 'string' || !SESSION_ID_PATTERN.test(o.sessionId))
    throw new InvalidArgumentError(`sessionId must match ${String(SESSION_ID_PATTERN)}`);
  if (o.template !== undefined && (typeof o.template !== 'string' || !TEMPLATE_PATTERN.test(o.template))) {
    throw new InvalidArgumentError(`template must match ${String(TEMPLATE_PATTERN)}`);
  }
  const body: Json = {};
  if (o.expiresInSeconds !== undefined) {
    if (!Number.isSafeInteger(o.expiresInSeconds) || o.expiresInSeconds <= 0 || o.expiresInSeconds > MAX_EXPIRES_IN_SECONDS) {
      throw new InvalidArgumentError(`expiresInSeconds must be a positive integer up to ${MAX_EXPIRES_IN_SECONDS}`);
    }
    body.expires_in_seconds = o.expiresInSeconds;
  }
  const url = endpoint(o.apiUrl, `/v1/sessions/${o.sessionId}/tokens${o.template === undefined ? '' : `/${o.template}`}`);
  const { status, body: answer } = await post(url, requireString('secretKey', o.secretKey), body);
  if (!isRecord(answer) || answer.object !== 'token') throw malformed(url, status, 'object is not "token"');
  if (typeof answer.jwt !== 'string' || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(answer.jwt))
    throw malformed(url, status, 'jwt is not a compact JWT');
  return answer.jwt;
}
