/**
 * The development origin as the origin tests reach it: a real HTTP server on 127.0.0.1, spoken to
 * with fetch, with the `__client` cookie carried by hand the way a browser would.
 */
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { test } from 'vitest';
import type { Route } from '../../origin/routes.ts';
import type { DevOriginOptions } from '../../origin/options.ts';
import { serveOrigin, type RunningOrigin } from '../support/servers.ts';

export type { RunningOrigin } from '../support/servers.ts';
export { stats } from '../support/originApi.ts';

/**
 * Starts `createDevOrigin(options)` (with `extra` routes, as the benchmarks mount them) on a free
 * port of `host`, 127.0.0.1 unless said otherwise.
 */
export function startOrigin(options: DevOriginOptions = {}, extra: readonly Route[] = [], host?: string): Promise<RunningOrigin> {
  return serveOrigin({ secretKey: 'sk_test_harness', ...options }, { extra, ...(host === undefined ? {} : { host }) });
}

/**
 * `it` with `origins`: the origins a test starts for itself (`origins.start(options)`, as
 * `startOrigin`), closed after it whatever its outcome.
 */
export const it = test.extend('origins', async ({}, { onCleanup }) => {
  const started: RunningOrigin[] = [];
  onCleanup(async () => {
    await Promise.all(started.splice(0).map((o) => o.close()));
  });
  return {
    async start(options: DevOriginOptions = {}, extra: readonly Route[] = [], host?: string): Promise<RunningOrigin> {
      const o = await startOrigin(options, extra, host);
      started.push(o);
      return o;
    },
  };
});

/** An IPv4 address of this machine that is not loopback, to call the origin from off loopback; none on some machines. */
export const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

/** One error entry as the origin sends it. */
export interface ErrorEntry {
  code: string;
  message: string;
  long_message: string;
}

/** The first error code of a response body, or null. */
export async function errorCode(res: Response): Promise<string | null> {
  const body = (await res.json()) as { errors?: ErrorEntry[] };
  return body.errors?.[0]?.code ?? null;
}

/** A browser: it keeps the `__client` cookie between requests. */
export class Browser {
  cookie: string | null = null;
  constructor(readonly base: string) {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie && !headers.has('cookie')) headers.set('cookie', `__client=${this.cookie}`);
    const res = await fetch(`${this.base}${path}`, { redirect: 'manual', ...init, headers });
    const set = res.headers.get('set-cookie');
    const match = set ? /__client=([^;]+)/.exec(set) : null;
    if (match?.[1]) this.cookie = match[1];
    return res;
  }

  /** Signs in; returns the new session id. */
  async signIn(identifier = `user-${Math.random().toString(36).slice(2)}`): Promise<string> {
    const res = await this.fetch('/v1/client/sign_ins', { method: 'POST', body: new URLSearchParams({ identifier }) });
    if (res.status !== 200) throw new Error(`sign-in answered ${res.status}`);
    return ((await res.json()) as { response: { id: string } }).response.id;
  }

  /** `POST /v1/client/sessions/{sid}/tokens[/{template}]` with a form body. */
  mint(sessionId: string, o: { template?: string; form?: Record<string, string>; query?: string; headers?: Record<string, string> } = {}): Promise<Response> {
    const path = `/v1/client/sessions/${sessionId}/tokens${o.template === undefined ? '' : `/${o.template}`}${o.query ?? ''}`;
    return this.fetch(path, { method: 'POST', body: new URLSearchParams(o.form ?? {}), headers: o.headers ?? {} });
  }

  /** Mints and returns the JWT; fails the test on anything but 200. */
  async mintJwt(sessionId: string, o: Parameters<Browser['mint']>[1] = {}): Promise<string> {
    const res = await this.mint(sessionId, o);
    const body = (await res.json()) as { object?: string; jwt?: string };
    if (res.status !== 200 || body.object !== 'token' || typeof body.jwt !== 'string') throw new Error(`mint answered ${res.status} ${JSON.stringify(body)}`);
    return body.jwt;
  }
}

/** A control request (`/__origin/*`) with a JSON body. */
export function control(base: string, path: string, body: unknown = {}): Promise<Response> {
  return fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** A request with a path sent exactly as written (fetch would normalise `..` and dot segments). */
export function rawRequest(
  base: string,
  o: { method: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: o.method, path: o.path, headers: o.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Verifies a JWT against the origin's own JWKS, fetched over HTTP; returns its claims and header. */
export async function verifyWithOrigin(base: string, jwt: string): Promise<{ payload: JWTPayload; header: ProtectedHeaderParameters }> {
  const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as Parameters<typeof createLocalJWKSet>[0];
  const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks), { algorithms: ['ES256'] });
  return { payload, header: decodeProtectedHeader(jwt) };
}
