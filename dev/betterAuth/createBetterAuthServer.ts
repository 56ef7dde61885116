/**
 * A real better-auth server for development, the tests, the benchmark and `npm start`: the npm package
 * `better-auth` (a devDependency; nothing shipped imports dev/) with email and password sign-in, its
 * `jwt` plugin and its memory adapter, behind one Node handler that serves `/api/auth/*` and counts
 * what it answered.
 *
 * The app-facing routes are better-auth's own and untouched: `POST /api/auth/sign-up/email`,
 * `POST /api/auth/sign-in/email`, `POST /api/auth/sign-out`, `GET /api/auth/get-session`,
 * `GET /api/auth/token` (`{ token }`, an EdDSA JWT) and `GET /api/auth/jwks`. Two control routes
 * are added beside them, for loopback callers only: `GET /api/auth/__stats` and `POST /api/auth/__reset`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { betterAuth } from 'better-auth';
import { memoryAdapter, type MemoryDB } from 'better-auth/adapters/memory';
import { toNodeHandler } from 'better-auth/node';
import { jwt } from 'better-auth/plugins/jwt';
import { sendJson as sendOriginJson } from '../../origin/http.ts';
import { isLoopbackAddress } from '../../origin/loopback.ts';

/**
 * Where better-auth is mounted (its default `basePath`).
 *
 * @example
 * const tokenUrl = `${BETTER_AUTH_BASE_PATH}/token`; // '/api/auth/token'
 */
export const BETTER_AUTH_BASE_PATH = '/api/auth';

/**
 * Default token lifetime: 60 s, the development origin's default and the OpenID provider's in
 * `npm start`, so every origin of the demo and the benchmark refreshes on the same rhythm.
 * (better-auth's own default is 15 minutes, too long to watch a refresh happen.)
 *
 * @example
 * createBetterAuthServer({ baseURL }).tokenLifetimeSeconds === DEFAULT_BETTER_AUTH_TOKEN_LIFETIME_SECONDS; // true
 */
export const DEFAULT_BETTER_AUTH_TOKEN_LIFETIME_SECONDS = 60;

/**
 * The secret better-auth encrypts the JWKS private key with and signs the session cookie with.
 * A dev-only secret, public in this repository: it protects nothing but throwaway users kept in
 * memory on loopback. It is long and varied enough that better-auth does not warn about it.
 */
const DEV_ONLY_SECRET = 'tabtoken-dev-only-better-auth-secret-Qm7vK2xR9pLw4ZtB8nYc';

/** Options of {@link createBetterAuthServer}. */
export interface BetterAuthServerOptions {
  /**
   * The server's own URL, such as `http://127.0.0.1:8787`: the JWT's `iss` and `aud`, the origin
   * trusted for sign-up, sign-in and sign-out, and `Secure` cookies when it is https.
   */
  baseURL: string;
  /** Lifetime of the JWTs of `GET /api/auth/token`, an integer 1..86400. Default 60. */
  tokenLifetimeSeconds?: number;
  /**
   * More origins allowed to sign in and out (better-auth's `trustedOrigins`, exact origins such as
   * `http://localhost:5173`); they also get CORS headers with credentials. `baseURL`'s origin is
   * always trusted.
   */
  trustedOrigins?: string[];
  /** Silences better-auth's own log (it logs every refused origin as an error). Default false. */
  quiet?: boolean;
}

/** What the server counted since it started or was last reset. */
export interface BetterAuthStats {
  /**
   * 2xx answers of `GET /api/auth/token`: tokens handed out by the token route. (The `jwt` plugin
   * also puts a JWT in the `set-auth-jwt` header of every signed-in `GET /api/auth/get-session`;
   * `routes['GET /api/auth/get-session']` counts those calls.)
   */
  tokens: number;
  /** Every `GET /api/auth/token`, whatever it was answered (a 401 included). */
  tokenRequests: number;
  /** Every request served under `/api/auth`, the control routes (`__stats`, `__reset`) left out. */
  requests: number;
  /** The same requests by `METHOD /path` (no query string), such as `'POST /api/auth/sign-out'`. */
  routes: Record<string, number>;
}

/** A Node `(req, res, next?)` handler, as connect (and so Vite) mounts one. */
export type ConnectHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

function buildAuth(o: { baseURL: string; tokenLifetimeSeconds: number; trustedOrigins: string[]; quiet: boolean; db: MemoryDB }) {
  return betterAuth({
    baseURL: o.baseURL,
    secret: DEV_ONLY_SECRET,
    database: memoryAdapter(o.db),
    emailAndPassword: { enabled: true, requireEmailVerification: false },
    trustedOrigins: o.trustedOrigins,
    // better-auth picks these defaults from NODE_ENV: rate limiting only in production, the origin
    // check skipped under NODE_ENV=test (which vitest sets). Fixing them keeps the tests, the
    // benchmark (20 tabs asking for tokens) and `npm start` on one behaviour: the real origin check,
    // no limit on how often a tab may ask.
    rateLimit: { enabled: false },
    advanced: { disableOriginCheck: false },
    telemetry: { enabled: false },
    logger: { disabled: o.quiet },
    // EdDSA (Ed25519) keys, the plugin's default, made on first use and kept in the memory adapter.
    plugins: [jwt({ jwt: { expirationTime: `${o.tokenLifetimeSeconds}s` } })],
  });
}

/** The better-auth instance, with the email-and-password routes and the `jwt` plugin's typed `auth.api`. */
export type DevBetterAuth = ReturnType<typeof buildAuth>;

/** A better-auth server: its instance, its handler and its counters. */
export interface BetterAuthServer {
  /** The better-auth instance (`auth.api.signUpEmail(…)`, `auth.api.getToken(…)` work in-process). */
  readonly auth: DevBetterAuth;
  readonly baseURL: string;
  readonly tokenLifetimeSeconds: number;
  /**
   * Serves `/api/auth` and everything under it; passes any other path to `next`, or answers it 404
   * when there is no `next`.
   */
  readonly handler: ConnectHandler;
  /** A copy of the counters. */
  stats(): BetterAuthStats;
  /** Forgets every user, session and account and zeroes the counters. The signing key stays, so a JWKS a client has cached stays valid. */
  reset(): void;
}

function freshDb(jwks: unknown[] = []): MemoryDB {
  return { user: [], session: [], account: [], verification: [], jwks };
}

function freshStats(): BetterAuthStats {
  return { tokens: 0, tokenRequests: 0, requests: 0, routes: {} };
}

/** A JSON answer of the server's own routes, never cached. */
const sendJson = (res: ServerResponse, status: number, body: unknown): void => sendOriginJson(res, status, body, { 'cache-control': 'no-store' });

/**
 * Checks the options and fills in the defaults; `trustedOrigins` comes back as origins, `baseURL`'s
 * own first. Throws `TypeError` naming the bad option.
 *
 * @example
 * checkBetterAuthOptions({ baseURL: 'http://localhost:5173', trustedOrigins: ['http://127.0.0.1:5173/'] });
 * // { baseURL: 'http://localhost:5173', tokenLifetimeSeconds: 60, trustedOrigins: ['http://localhost:5173', 'http://127.0.0.1:5173'] }
 */
export function checkBetterAuthOptions(o: BetterAuthServerOptions): { baseURL: string; tokenLifetimeSeconds: number; trustedOrigins: string[] } {
  const originOf = (url: string, what: string): string => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(`createBetterAuthServer: ${what} must be an absolute http or https URL, not ${JSON.stringify(url)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new TypeError(`createBetterAuthServer: ${what} must be an http or https URL, not ${url}`);
    return parsed.origin;
  };
  if (typeof o.baseURL !== 'string') throw new TypeError('createBetterAuthServer: baseURL must be a string');
  const ownOrigin = originOf(o.baseURL, 'baseURL');
  const tokenLifetimeSeconds = o.tokenLifetimeSeconds ?? DEFAULT_BETTER_AUTH_TOKEN_LIFETIME_SECONDS;
  if (!Number.isInteger(tokenLifetimeSeconds) || tokenLifetimeSeconds < 1 || tokenLifetimeSeconds > 86_400) {
    throw new TypeError(`createBetterAuthServer: tokenLifetimeSeconds must be an integer from 1 to 86400, not ${String(tokenLifetimeSeconds)}`);
  }
  if (o.trustedOrigins !== undefined && !Array.isArray(o.trustedOrigins))
    throw new TypeError('createBetterAuthServer: trustedOrigins must be an array of URLs');
  const trustedOrigins = [...new Set([ownOrigin, ...(o.trustedOrigins ?? []).map((url) => originOf(url, 'each of trustedOrigins'))])];
  return { baseURL: o.baseURL, tokenLifetimeSeconds, trustedOrigins };
}

/**
 * Creates a better-auth server with an in-memory store. Throws `TypeError` for a bad `baseURL`,
 * lifetime or trusted origin.
 *
 * @example
 * import { createServer } from 'node:http';
 * const ba = createBetterAuthServer({ baseURL: 'http://127.0.0.1:8788', tokenLifetimeSeconds: 20 });
 * createServer(ba.handler).listen(8788, '127.0.0.1');
 * // the app: createTokenManager({ endpoint: { tokenUrl: '/api/auth/token', method: 'GET', signOutUrl: '/api/auth/sign-out' } })
 * ba.stats().tokens; // 2xx answers of GET /api/auth/token so far
 */
export function createBetterAuthServer(o: BetterAuthServerOptions): BetterAuthServer {
  const { baseURL, tokenLifetimeSeconds, trustedOrigins } = checkBetterAuthOptions(o);
  const ownOrigin = new URL(baseURL).origin;
  // Origins other than our own are cross-origin callers: they need CORS to read an answer.
  const corsOrigins = new Set(trustedOrigins.filter((origin) => origin !== ownOrigin));

  // The memory adapter reads `db[model]` afresh at every call, so a reset can swap the tables.
  const db = freshDb();
  const auth = buildAuth({ baseURL, tokenLifetimeSeconds, trustedOrigins, quiet: o.quiet ?? false, db });
  let stats = freshStats();

  // Counting happens when better-auth hands back its Response, before a byte of it is written, so a
  // caller that has read an answer always finds it counted (counting on the socket's `finish` would
  // race the client's read).
  const serve = toNodeHandler(async (request: Request) => {
    const response = await auth.handler(request);
    if (request.method === 'GET' && new URL(request.url).pathname === `${BETTER_AUTH_BASE_PATH}/token` && response.status >= 200 && response.status < 300) {
      stats.tokens += 1;
    }
    return response;
  });

  const control = (req: IncomingMessage, res: ServerResponse, path: string): boolean => {
    if (path !== `${BETTER_AUTH_BASE_PATH}/__stats` && path !== `${BETTER_AUTH_BASE_PATH}/__reset`) return false;
    // The counters and the reset are for tests and the benchmark on this machine, never a page elsewhere.
    if (!isLoopbackAddress(req.socket.remoteAddress)) {
      sendJson(res, 403, { code: 'FORBIDDEN', message: 'the control routes answer loopback callers only' });
      return true;
    }
    if (path.endsWith('/__stats') && req.method === 'GET') sendJson(res, 200, server.stats());
    else if (path.endsWith('/__reset') && req.method === 'POST') {
      server.reset();
      sendJson(res, 200, { ok: true });
    } else sendJson(res, 405, { code: 'METHOD_NOT_ALLOWED', message: `${req.method ?? ''} is not allowed on ${path}` });
    return true;
  };

  const handler: ConnectHandler = (req, res, next) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== BETTER_AUTH_BASE_PATH && !path.startsWith(`${BETTER_AUTH_BASE_PATH}/`)) {
      if (next) return next();
      return sendJson(res, 404, { code: 'NOT_FOUND', message: `${path} is not served here` });
    }
    if (control(req, res, path)) return;
    const method = req.method ?? 'GET';
    stats.requests += 1;
    const route = `${method} ${path}`;
    stats.routes[route] = (stats.routes[route] ?? 0) + 1;
    if (method === 'GET' && path === `${BETTER_AUTH_BASE_PATH}/token`) stats.tokenRequests += 1;

    // better-auth sends no CORS headers of its own; a trusted origin on another port needs them.
    const origin = req.headers.origin;
    if (origin !== undefined && corsOrigins.has(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'Origin');
      if (method === 'OPTIONS') {
        res.setHeader('access-control-allow-methods', 'GET, POST');
        res.setHeader('access-control-allow-headers', req.headers['access-control-request-headers'] ?? 'content-type');
        res.setHeader('access-control-max-age', '600');
        res.statusCode = 204;
        return void res.end();
      }
    }
    serve(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy(error instanceof Error ? error : undefined);
      sendJson(res, 500, { code: 'INTERNAL_SERVER_ERROR', message: error instanceof Error ? error.message : String(error) });
    });
  };

  const server: BetterAuthServer = {
    auth,
    baseURL,
    tokenLifetimeSeconds,
    handler,
    stats: () => ({ ...stats, routes: { ...stats.routes } }),
    reset: () => {
      const kept = freshDb(db.jwks);
      for (const model of Object.keys(db)) delete db[model];
      Object.assign(db, kept);
      stats = freshStats();
    },
  };
  return server;
}
