/**
 * HTTP plumbing of the development origin on plain Node `http` objects, so the same handler runs
 * in Vite's connect stack, in `vite preview` and in the standalone server: bodies (form or JSON,
 * with a size limit), JSON and HTML answers, the `__client` cookie, the request's own origin, CORS.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OriginHttpError } from './OriginHttpError.ts';

/** Largest request body the origin reads; a bigger one is answered 413 `payload_too_large`. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Past this many bytes an oversized body is no longer drained but the connection is dropped. */
const MAX_DRAIN_BYTES = 16 * 1024 * 1024;

/** Name of the cookie that identifies a browser's client. */
export const CLIENT_COOKIE = '__client';

/** The media type of a request without its parameters, lower-cased; `''` when there is none. */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function isJsonType(type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

function tooLarge(): OriginHttpError {
  return new OriginHttpError(413, 'payload_too_large', 'The request body is too large', `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
}

/**
 * Reads the whole body as UTF-8. An oversized body is drained before the 413 goes out, because
 * answering while the client is still uploading makes many clients report a reset connection
 * instead of the status.
 */
export function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length']);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let oversized = Number.isFinite(declared) && declared > MAX_BODY_BYTES;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_DRAIN_BYTES) {
        req.destroy();
        reject(tooLarge());
        return;
      }
      if (size > MAX_BODY_BYTES) oversized = true;
      if (!oversized) chunks.push(chunk);
    });
    req.on('end', () => {
      if (oversized) return reject(tooLarge());
      try {
        resolve(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)));
      } catch {
        reject(new OriginHttpError(400, 'invalid_request_body', 'The request body is not valid UTF-8'));
      }
    });
    req.on('error', reject);
  });
}

/** Parameters of a request body: strings from a form, any JSON value from a JSON object. */
export type BodyParams = Record<string, unknown>;

/**
 * Reads a body of parameters. An empty body is `{}` whatever its type. Otherwise `form` accepts
 * `application/x-www-form-urlencoded` (or no type) and JSON; `json` accepts JSON only, which keeps
 * the fault controls out of reach of a cross-site form (a JSON request needs a CORS preflight).
 * A form field given twice becomes an array, which every parameter check then refuses.
 */
export async function readParams(req: IncomingMessage, accept: 'form' | 'json'): Promise<BodyParams> {
  const text = await readBody(req);
  if (text.trim() === '') return {};
  const type = mediaType(req);
  if (isJsonType(type)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new OriginHttpError(400, 'invalid_request_body', 'The request body is not valid JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new OriginHttpError(400, 'invalid_request_body', 'The request body must be a JSON object');
    }
    return value as BodyParams;
  }
  if (accept === 'form' && (type === '' || type === 'application/x-www-form-urlencoded')) {
    const params: BodyParams = Object.create(null) as BodyParams;
    for (const [key, value] of new URLSearchParams(text)) {
      const previous = params[key];
      params[key] = previous === undefined ? value : Array.isArray(previous) ? [...(previous as unknown[]), value] : [previous, value];
    }
    return params;
  }
  throw new OriginHttpError(
    415,
    'unsupported_media_type',
    `Content-Type ${type || '(none)'} is not accepted here`,
    accept === 'json' ? 'Send the body as application/json.' : 'Send the body as application/x-www-form-urlencoded or application/json.',
  );
}

/** Answers with a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** Answers with the error body `{ errors: [{ code, message, long_message }] }`. */
export function sendError(res: ServerResponse, error: OriginHttpError): void {
  sendJson(res, error.status, { errors: [{ code: error.code, message: error.message, long_message: error.longMessage }] }, { ...error.headers });
}

/** Escapes text for an HTML text node or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Answers a browser with a small HTML page naming the error code. Every piece of text is escaped
 * and the page may load nothing, so nothing a caller sent can run in it.
 */
export function sendHtmlError(res: ServerResponse, error: OriginHttpError): void {
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(error.code)}</title></head>` +
    `<body><h1>${escapeHtml(error.message)}</h1><p><code>${escapeHtml(error.code)}</code></p><p>${escapeHtml(error.longMessage)}</p></body></html>`;
  res.statusCode = error.status;
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Security-Policy', "default-src 'none'");
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Length', Buffer.byteLength(html));
  res.end(html);
}

/** The value of one cookie of the request, or null. */
export function readCookie(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** Sets the `__client` cookie (the value is a URL-safe id, so it needs no encoding). */
export function setClientCookie(res: ServerResponse, clientId: string): void {
  res.setHeader('Set-Cookie', `${CLIENT_COOKIE}=${clientId}; Path=/; HttpOnly; SameSite=Lax`);
}

/**
 * The origin the request reached, from its `Host` header (`http://127.0.0.1:5173`), or null when
 * the header is missing or is not a bare host. It becomes the default issuer, the base of test
 * session token URLs and the only origin a `redirect_url` may point at. HTTP/2 (Vite over https)
 * sends no `Host` but the `:authority` pseudo-header, read in its place.
 */
export function requestOrigin(req: IncomingMessage): string | null {
  const authority = req.headers[':authority'];
  const host = req.headers.host ?? (typeof authority === 'string' ? authority : undefined);
  if (!host) return null;
  const encrypted = 'encrypted' in req.socket && req.socket.encrypted === true;
  let url: URL;
  try {
    url = new URL(`${encrypted ? 'https' : 'http'}://${host}`);
  } catch {
    return null;
  }
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash || url.host === '') return null;
  return url.origin;
}

/**
 * Adds the CORS headers when the request's Origin is allowed; returns whether it is. Nothing is
 * sent for other origins, so the browser keeps their pages from reading any answer.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowedOrigins: ReadonlySet<string>): boolean {
  if (allowedOrigins.size === 0) return false;
  res.setHeader('Vary', 'Origin');
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || !allowedOrigins.has(origin)) return false;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  // The client measures token lifetimes on the origin's clock (`Date`) and honours `Retry-After`.
  res.setHeader('Access-Control-Expose-Headers', 'Date, Retry-After');
  return true;
}

/** Answers an OPTIONS preflight: 204, with the allowed methods and headers when the origin is allowed. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, allowed: boolean, methods: readonly string[]): void {
  if (allowed) {
    res.setHeader('Access-Control-Allow-Methods', [...methods, 'OPTIONS'].join(', '));
    const requested = req.headers['access-control-request-headers'];
    const headers = typeof requested === 'string' && /^[A-Za-z0-9_\-, ]*$/.test(requested) ? requested : 'content-type, authorization';
    res.setHeader('Access-Control-Allow-Headers', headers || 'content-type, authorization');
    res.setHeader('Access-Control-Max-Age', '600');
  }
  res.setHeader('Allow', [...methods, 'OPTIONS'].join(', '));
  res.statusCode = 204;
  res.end();
}
