/**
 * The better-auth server alone on a port of 127.0.0.1, for Node tests and the benchmark. The secret
 * is a public dev-only one, so it never listens beyond loopback, and it answers only requests whose
 * `Host` names a loopback address or `localhost` (a page elsewhere cannot reach it by DNS rebinding).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopbackHost } from '../../origin/loopback.ts';
import { createBetterAuthServer, type BetterAuthServer, type BetterAuthStats, type DevBetterAuth } from './createBetterAuthServer.ts';

/** Options of {@link startBetterAuth}. */
export interface StartBetterAuthOptions {
  /** TCP port on 127.0.0.1, 0..65535; default 0 (a free one). */
  port?: number;
  /** Lifetime of the JWTs of `GET /api/auth/token`, an integer 1..86400. Default 60. */
  tokenLifetimeSeconds?: number;
  /** More trusted origins (with CORS), such as a Vite app on another port; the server's own origin and `http://localhost:{port}` are trusted already. */
  trustedOrigins?: string[];
  /** Silences better-auth's own log. Default false. */
  quiet?: boolean;
}

/** A running better-auth server. */
export interface RunningBetterAuth {
  /** Its origin, such as `http://127.0.0.1:41234`; better-auth is under `${url}/api/auth`. */
  readonly url: string;
  readonly auth: DevBetterAuth;
  readonly server: Server;
  readonly betterAuth: BetterAuthServer;
  stats(): BetterAuthStats;
  reset(): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** The host part of a `Host` header: `[::1]:80` → `[::1]`, `localhost:80` → `localhost`. */
function hostName(header: string | undefined): string {
  if (!header) return '';
  const bracket = /^(\[[^\]]*\])(?::\d+)?$/.exec(header);
  if (bracket) return bracket[1] ?? '';
  return header.replace(/:\d+$/, '');
}

/**
 * Starts better-auth on 127.0.0.1. The port is known only once it listens, and better-auth needs
 * its own URL up front (the JWT's issuer, the trusted origin), so the server listens first and the
 * better-auth instance is made right after.
 *
 * @example
 * const ba = await startBetterAuth({ tokenLifetimeSeconds: 20 });
 * await fetch(`${ba.url}/api/auth/sign-up/email`, { method: 'POST', headers: { 'content-type': 'application/json', origin: ba.url }, body: JSON.stringify({ email, password, name }) });
 * ba.stats().tokens;
 * await ba.close();
 */
export async function startBetterAuth(o: StartBetterAuthOptions = {}): Promise<RunningBetterAuth> {
  const port = o.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new TypeError(`startBetterAuth: port must be an integer from 0 to 65535, not ${String(port)}`);
  let ba: BetterAuthServer | null = null;
  const server = createServer((req, res) => {
    if (!isLoopbackHost(hostName(req.headers.host))) {
      res.statusCode = 403;
      res.setHeader('content-type', 'application/json');
      return void res.end(JSON.stringify({ code: 'HOST_NOT_ALLOWED', message: `Host ${req.headers.host ?? '(none)'} is not a loopback name` }));
    }
    if (!ba) {
      res.statusCode = 503;
      return void res.end();
    }
    ba.handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: actual } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${actual}`;
  let started: BetterAuthServer;
  try {
    started = createBetterAuthServer({
      baseURL: url,
      tokenLifetimeSeconds: o.tokenLifetimeSeconds,
      trustedOrigins: [`http://localhost:${actual}`, ...(o.trustedOrigins ?? [])],
      quiet: o.quiet,
    });
  } catch (error) {
    server.close();
    throw error;
  }
  ba = started;
  return {
    url,
    auth: started.auth,
    server,
    betterAuth: started,
    stats: () => started.stats(),
    reset: () => started.reset(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
