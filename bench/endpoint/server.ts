/**
 * One server per run of the token-endpoint benchmark: the built tab page, the development origin's
 * app session routes (a rotating `__app_refresh` cookie with reuse detection) and a real better-auth
 * server (`dev/betterAuth/`), all on one origin of 127.0.0.1 with a port of its own. A run has the
 * server to itself, so the origin's counters (`app.reuses`), its clock (the wake-up moment advances
 * it) and better-auth's counters are that run's alone.
 *
 * Loaded by the plain-JS runner (`measure.mjs`) through Vite's `runnerImport`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { preview, type Plugin } from 'vite';
import { devOrigin } from '../../origin/devOrigin.ts';
import type { OriginStats } from '../../origin/OriginState.ts';
import { betterAuthPlugin } from '../../dev/betterAuth/betterAuthPlugin.ts';
import type { BetterAuthStats } from '../../dev/betterAuth/createBetterAuthServer.ts';

/** One request to an auth or API route, as the server answered it. */
export interface EndpointRequest {
  /** Arrival, `performance.timeOrigin + performance.now()` of this process (ms since the epoch). */
  at: number;
  method: string;
  /** Path without the query. */
  path: string;
  status: number;
  /** The token a 2xx answer of a token route carried (`access_token` or `token`), else null. */
  token: string | null;
  /** The first error code of a 4xx/5xx JSON answer (`refresh_reused`, `session_ended`, …), else null. */
  code: string | null;
}

/** The two token routes the contenders call. */
export const APP_TOKEN_ROUTE = 'POST /app/session/token';
export const BETTER_AUTH_TOKEN_ROUTE = 'GET /api/auth/token';

const LOGGED = /^\/(?:app|api\/auth)\//;

function parseAnswer(body: string): { token: string | null; code: string | null } {
  try {
    const json: unknown = JSON.parse(body);
    if (typeof json !== 'object' || json === null) return { token: null, code: null };
    const record = json as Record<string, unknown>;
    const token = typeof record.access_token === 'string' ? record.access_token : typeof record.token === 'string' ? record.token : null;
    const errors = record.errors;
    const first = Array.isArray(errors) ? (errors[0] as Record<string, unknown> | undefined) : undefined;
    const code = typeof first?.code === 'string' ? first.code : typeof record.code === 'string' ? record.code : null;
    return { token, code };
  } catch {
    return { token: null, code: null };
  }
}

/** Logs every request under `/app/` and `/api/auth/` with its answer; registered before the origin and better-auth. */
function requestLog(log: EndpointRequest[]): Plugin {
  const record = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    if (!LOGGED.test(path) || path.includes('/__')) {
      next();
      return;
    }
    const at = performance.timeOrigin + performance.now();
    const chunks: Buffer[] = [];
    const keep = (chunk: unknown): void => {
      if (typeof chunk === 'string') chunks.push(Buffer.from(chunk));
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    const write = res.write;
    const end = res.end;
    res.write = function (this: ServerResponse, ...args: Parameters<ServerResponse['write']>) {
      keep(args[0]);
      return write.apply(this, args);
    } as ServerResponse['write'];
    res.end = function (this: ServerResponse, ...args: Parameters<ServerResponse['end']>) {
      if (typeof args[0] !== 'function') keep(args[0]);
      return end.apply(this, args);
    } as ServerResponse['end'];
    res.on('finish', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const { token, code } = body.length < 65_536 ? parseAnswer(body) : { token: null, code: null };
      log.push({
        at,
        method: req.method ?? '',
        path,
        status: res.statusCode,
        token: res.statusCode < 300 ? token : null,
        code: res.statusCode >= 400 ? code : null,
      });
    });
    next();
  };
  return {
    name: 'tabtoken:bench-endpoint-log',
    configurePreviewServer: (server) => void server.middlewares.use(record),
  };
}

/** A running server of one run. */
export interface EndpointBenchServer {
  base: string;
  /** Every logged request so far, in the order they finished. */
  log: EndpointRequest[];
  /** The development origin's counters (`app: { tokens, reuses, families, revoked }` among them). */
  originStats(): OriginStats;
  /** better-auth's counters. */
  betterAuthStats(): BetterAuthStats;
  /** Moves the development origin's clock ahead (`POST /__origin/clock`). */
  advanceClock(ms: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a server for one run on a free port of 127.0.0.1, serving the pages built into `outDir`.
 * Both token sources issue tokens of `lifetimeS` seconds; the app session routes answer a rotated
 * cookie with a reuse detection at once (`refreshReuseIntervalSeconds: 0`, strict).
 */
export async function startEndpointServer(o: { outDir: string; lifetimeS: number }): Promise<EndpointBenchServer> {
  const log: EndpointRequest[] = [];
  const origin = devOrigin({ faults: true, tokenLifetimeSeconds: o.lifetimeS });
  const betterAuth = betterAuthPlugin({ tokenLifetimeSeconds: o.lifetimeS, quiet: true });
  const server = await preview({
    configFile: false,
    root: fileURLToPath(new URL('./pages', import.meta.url)),
    logLevel: 'warn',
    build: { outDir: o.outDir },
    plugins: [requestLog(log), origin, betterAuth],
    preview: {
      port: 0,
      host: '127.0.0.1',
      strictPort: false,
      headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' },
    },
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('the endpoint bench server has no address');
  const base = `http://127.0.0.1:${address.port}`;
  const control = async (path: string, body: unknown): Promise<void> => {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  };
  // Strict rotation, whatever the default becomes: a rotated-away cookie presented again is reuse.
  await control('/__origin/config', { tokenLifetimeSeconds: o.lifetimeS, refreshReuseIntervalSeconds: 0 });
  return {
    base,
    log,
    originStats: () => origin.api.origin.stats(),
    betterAuthStats: () => {
      const ba = betterAuth.api.server();
      if (!ba) throw new Error('better-auth has not started');
      return ba.stats();
    },
    advanceClock: (ms) => control('/__origin/clock', { advanceMs: ms }),
    close: () => server.close(),
  };
}
