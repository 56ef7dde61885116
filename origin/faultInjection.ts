/**
 * What the fault controls do to the token routes (the frontend ones, and `/app/session/token` for
 * latency, injected errors and `down`): added latency, injected errors, and the two outage modes.
 * The controls themselves (`/__origin/*`) are in `faultRoutes.ts`.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { JWTPayload } from 'jose';
import { escapeHtml, sendJson } from './http.ts';
import type { HostileKind, Session } from './OriginState.ts';
import { OriginHttpError } from './OriginHttpError.ts';
import type { OriginContext } from './routes.ts';

/** Size of the `huge` hostile answer. */
export const HUGE_BODY_BYTES = 5 * 1024 * 1024;

/**
 * Waits the configured latency (plus a random part below `jitterMs`), then fails with the
 * configured status with probability `errorRate`. A 429 carries `Retry-After: 1` so clients
 * exercise their Retry-After handling.
 */
export async function injectFaults(ctx: OriginContext, random: () => number = Math.random): Promise<void> {
  const { latencyMs, jitterMs } = ctx.state.faults;
  const wait = latencyMs + (jitterMs > 0 ? Math.floor(random() * jitterMs) : 0);
  if (wait > 0) await delay(wait);
  // Read again after the wait: a test may have changed the faults meanwhile.
  const { errorRate, status } = ctx.state.faults;
  if (errorRate > 0 && random() < errorRate) {
    throw new OriginHttpError(
      status,
      status === 429 ? 'too_many_requests' : 'injected_fault',
      `Injected fault: ${status}`,
      'The development origin answered with an error because POST /__origin/faults asked it to.',
      status === 429 ? { 'Retry-After': '1' } : {},
    );
  }
}

/** Outage mode `down`: every token route answers 503. */
export function requireOriginUp(ctx: OriginContext): void {
  if (ctx.state.outage === 'down') {
    throw new OriginHttpError(
      503,
      'service_unavailable',
      'The token origin is down',
      'The development origin is in outage mode "down" (POST /__origin/outage).',
    );
  }
}

/**
 * Outage mode `missing_expired_token` (seed 003): the origin can mint only from the last token the
 * client holds. The `expired_token` query must be a token this origin signed for this session —
 * expired or not; the caller has already checked the cookie and the session. Returns the `oiat`
 * the new token keeps.
 */
export async function requireExpiredToken(ctx: OriginContext, url: URL, session: Session): Promise<number> {
  const raw = url.searchParams.get('expired_token');
  const verified = raw ? await ctx.signer.verifySignature(raw) : null;
  if (verified && verified.payload.sid === session.id && verified.oiat !== null) return verified.oiat;
  throw new OriginHttpError(
    422,
    'missing_expired_token',
    'Missing expired token',
    raw
      ? 'The expired_token query parameter is not a token this origin signed for this session.'
      : 'The origin is in outage mode: retry with the last active token of this session in the expired_token query parameter.',
  );
}

/** What a hostile answer needs to look like a real one of this session. */
export interface HostileMint {
  session: Session;
  issuer: string;
  azp: string;
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Answers a mint that passed every check with a hostile body instead of a token (see
 * `HostileKind`). Nothing is counted as a mint: no usable token left the origin.
 */
export async function sendHostile(ctx: OriginContext, res: ServerResponse, kind: HostileKind, mint: HostileMint): Promise<void> {
  const iat = Math.floor(ctx.options.now() / 1000);
  const lifetime = ctx.state.tokenLifetimeSeconds;
  const claims = (over: Partial<JWTPayload> = {}): JWTPayload => ({
    sid: mint.session.id,
    sub: mint.session.userId,
    iat,
    nbf: iat - 10,
    exp: iat + lifetime,
    iss: mint.issuer,
    azp: mint.azp,
    jti: randomUUID(),
    ...over,
  });
  const token = (jwt: string): void => sendJson(res, 200, { object: 'token', jwt });
  switch (kind) {
    case 'html':
    case 'html_error': {
      const status = kind === 'html' ? 200 : 403;
      const html =
        `<!doctype html><html><head><title>${status === 200 ? 'My App' : '403 Forbidden'}</title></head>` +
        `<body><h1>${escapeHtml(status === 200 ? 'Loading…' : 'Access denied')}</h1><script>/* app */</script></body></html>`;
      res.statusCode = status;
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(html);
      return;
    }
    case 'non_json':
      res.statusCode = 200;
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end('{"object":"token","jwt":"eyJhbGciOiJFUzI1NiJ9.');
      return;
    case 'not_jwt':
      return token('not-a-jwt');
    case 'wrong_sid':
      return token(await ctx.signer.sign(claims({ sid: `sess_${randomUUID().replaceAll('-', '')}` }), iat));
    case 'expired':
      return token(await ctx.signer.sign(claims({ iat: iat - 2 * lifetime, nbf: iat - 2 * lifetime - 10, exp: iat - lifetime }), iat - 2 * lifetime));
    case 'alg_none':
      return token(`${b64url({ alg: 'none', typ: 'JWT', oiat: iat })}.${b64url(claims())}.`);
    case 'bad_signature': {
      const [header, payload, signature = ''] = (await ctx.signer.sign(claims(), iat)).split('.');
      const bytes = Buffer.from(signature, 'base64url');
      for (let i = 0; i < bytes.length; i += 7) bytes[i] = (bytes[i] ?? 0) ^ 0x5a;
      return token(`${header}.${payload}.${bytes.toString('base64url')}`);
    }
    case 'huge':
      return streamHuge(res);
  }
}

/** 5 MB of a token-shaped JSON body in 64 KB chunks, with backpressure, until the client hangs up. */
async function streamHuge(res: ServerResponse): Promise<void> {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  const chunk = 'A'.repeat(64 * 1024);
  let sent = 0;
  if (!res.write('{"object":"token","jwt":"')) await writable(res);
  while (sent < HUGE_BODY_BYTES && !res.destroyed) {
    sent += chunk.length;
    if (!res.write(chunk)) await writable(res);
  }
  if (!res.destroyed) res.end('"}');
}

/** Resolves when the response may be written again (drain) or never will be (close, error). */
async function writable(res: ServerResponse): Promise<void> {
  if (res.destroyed) return;
  const stop = new AbortController();
  try {
    await Promise.race([once(res, 'drain', { signal: stop.signal }), once(res, 'close', { signal: stop.signal })]);
  } catch {
    // An error on the response ends the stream as a close does.
  } finally {
    stop.abort();
  }
}
