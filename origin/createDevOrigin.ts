/**
 * The development token origin as one Node request handler: it works as connect middleware (Vite
 * dev and preview, see `devOrigin.ts`) and as a plain `http.createServer` handler (the standalone
 * server, the tests).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AllowedHosts } from './AllowedHosts.ts';
import { appSessionRoutes } from './appSessionRoutes.ts';
import { backendRoutes } from './backendRoutes.ts';
import { faultRoutes } from './faultRoutes.ts';
import { frontendRoutes } from './frontendRoutes.ts';
import { answerPreflight, applyCors, requestOrigin, sendError, sendHtmlError } from './http.ts';
import { isLoopbackAddress } from './loopback.ts';
import { OriginState, type OriginStats } from './OriginState.ts';
import { OriginHttpError } from './OriginHttpError.ts';
import { resolveOptions, type DevOriginOptions } from './options.ts';
import type { OriginContext, Route } from './routes.ts';
import { testSessionTokenRoutes } from './testSessionTokenRoutes.ts';
import { TokenSigner, type JsonWebKeySet } from './TokenSigner.ts';

/**
 * The development origin: a Node request handler with a few members for tests and tools.
 * Without `next` it answers 404 `not_found` for a path it does not serve; with `next` (connect,
 * Vite) it passes such requests on.
 */
export interface DevOrigin {
  (req: IncomingMessage, res: ServerResponse, next?: () => void): void;
  /** The key the backend API expects in `Authorization: Bearer …`. */
  readonly secretKey: string;
  /** Whether the `/__origin/*` fault controls are served. */
  readonly faults: boolean;
  /** The public key set, as served at `/.well-known/jwks.json`. */
  jwks(): Promise<JsonWebKeySet>;
  /** The counters, as `GET /__origin/stats` answers them (available with or without `faults`). */
  stats(): OriginStats;
  /**
   * What `POST /__origin/reset` does: clears counters, outage, faults, the config overrides and the
   * clock offset; keeps sessions and app session token families.
   */
  reset(): void;
}

/** A Node or connect request handler. */
export type OriginHandler = (req: IncomingMessage, res: ServerResponse, next?: () => void) => void;

type Dispatcher = (req: IncomingMessage, res: ServerResponse, next: (() => void) | undefined, hosts: AllowedHosts | null) => void;

/**
 * Each origin's dispatcher, reachable only through `withHostCheck`: the host check belongs to the
 * servers that know their own names (the standalone server, the Vite plugin), not to the public
 * `DevOrigin`, which an app mounting it in a server of its own may guard as it sees fit.
 */
const dispatchers = new WeakMap<DevOrigin, Dispatcher>();

function rawPathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const end = url.search(/[?#]/);
  return end < 0 ? url : url.slice(0, end);
}

function notFound(): OriginHttpError {
  return new OriginHttpError(404, 'not_found', 'Not found', 'The development origin has no route at this path.');
}

/** A browser page of another origin may not drive the fault controls, even from this machine. */
function isForeignPage(req: IncomingMessage, origin: string | null, allowed: boolean): boolean {
  const from = req.headers.origin;
  return typeof from === 'string' && from !== origin && !allowed;
}

async function dispatch(
  ctx: OriginContext,
  routes: readonly Route[],
  req: IncomingMessage,
  res: ServerResponse,
  next: (() => void) | undefined,
  hosts: AllowedHosts | null,
): Promise<void> {
  const path = rawPathOf(req);
  const candidates = routes.flatMap((route) => {
    const match = route.pattern.exec(path);
    return match ? [{ route, captures: match.slice(1) }] : [];
  });
  if (candidates.length === 0 && next) return next();

  res.setHeader('Cache-Control', 'no-store');
  // Clients measure a token's life against `Date`: it states the clock `iat` and `exp` come from.
  res.setHeader('Date', new Date(ctx.state.now()).toUTCString());
  const allowed = applyCors(req, res, ctx.options.allowedOrigins);
  const origin = requestOrigin(req);
  const page = candidates.some((c) => c.route.page === true);
  try {
    // First, so that a page reaching this origin under a name of its own learns nothing else.
    hosts?.check(req);
    if (candidates.length === 0) throw notFound();
    if (candidates.some((c) => c.route.control === true)) {
      if (!isLoopbackAddress(req.socket.remoteAddress))
        throw new OriginHttpError(403, 'forbidden', 'Forbidden', 'The fault controls answer loopback callers only.');
      if (isForeignPage(req, origin, allowed))
        throw new OriginHttpError(403, 'forbidden', 'Forbidden', 'The fault controls answer pages of this origin and of allowedOrigins only.');
    }
    if (origin === null)
      throw new OriginHttpError(400, 'invalid_host', 'Invalid Host header', 'The request needs a Host header naming a host and an optional port.');
    const methods = [...new Set(candidates.map((c) => c.route.method))];
    if (req.method === 'OPTIONS') {
      ctx.state.countRequest('preflight');
      return answerPreflight(req, res, allowed, methods);
    }
    const chosen = candidates.find((c) => c.route.method === req.method);
    if (!chosen)
      throw new OriginHttpError(405, 'method_not_allowed', 'Method not allowed', `Use ${methods.join(' or ')}.`, { Allow: [...methods, 'OPTIONS'].join(', ') });
    if (chosen.route.name) ctx.state.countRequest(chosen.route.name);
    await chosen.route.handle(ctx, { req, res, url: new URL(req.url ?? '/', origin), captures: chosen.captures, origin });
  } catch (error) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const answer =
      error instanceof OriginHttpError
        ? error
        : new OriginHttpError(500, 'internal_error', 'Internal error', error instanceof Error ? error.message : String(error));
    if (!(error instanceof OriginHttpError)) console.error('[tabtoken origin]', error);
    if (page) sendHtmlError(res, answer);
    else sendError(res, answer);
  }
}

/**
 * Creates the development token origin (SPEC section 9). State lives in memory; the signing key is
 * made at start. Throws `InvalidArgumentError` for bad options.
 *
 * @example
 * import { createServer } from 'node:http';
 * const origin = createDevOrigin({ faults: true, templates: { api: { claims: { aud: 'api' } } } });
 * createServer(origin).listen(8787, '127.0.0.1');
 */
export function createDevOrigin(options?: DevOriginOptions): DevOrigin {
  return createOriginWith(options, []);
}

/**
 * The development origin with `extra` routes served beside its own when `faults` is on (the
 * benchmarks mount a second token protocol this way). Not part of `tabtoken/testing`.
 */
export function createOriginWith(options: DevOriginOptions | undefined, extra: readonly Route[]): DevOrigin {
  const resolved = resolveOptions(options);
  const state = new OriginState(resolved.now, resolved.tokenLifetimeSeconds);
  // One clock for the whole origin: routes read `options.now`, which is the state's, so that
  // `POST /__origin/clock` moves iat, exp, session expiry and the mint log together.
  const ctx: OriginContext = { options: { ...resolved, now: () => state.now() }, state, signer: new TokenSigner() };
  const routes: readonly Route[] = [
    ...frontendRoutes,
    ...backendRoutes,
    ...testSessionTokenRoutes,
    ...appSessionRoutes,
    ...(resolved.faults ? [...faultRoutes, ...extra] : []),
  ];
  const dispatcher: Dispatcher = (req, res, next, hosts) => {
    void dispatch(ctx, routes, req, res, next, hosts);
  };
  const handler = (req: IncomingMessage, res: ServerResponse, next?: () => void): void => dispatcher(req, res, next, null);
  const origin: DevOrigin = Object.assign(handler, {
    secretKey: resolved.secretKey,
    faults: resolved.faults,
    jwks: () => ctx.signer.jwks(),
    stats: () => ctx.state.stats(),
    reset: () => ctx.state.reset(),
  });
  dispatchers.set(origin, dispatcher);
  return origin;
}

/**
 * The origin's handler answering only requests whose `Host` (or HTTP/2 `:authority`) `hosts`
 * allows; any other gets 403 `host_not_allowed`. With `next`, a path the origin does not serve is
 * passed on unchecked: the server behind `next` guards its own paths. Not part of
 * `tabtoken/testing`.
 *
 * @example
 * const hosts = AllowedHosts.strict([], 'allowHosts', 'Start it with --allow-host NAME.');
 * createServer(withHostCheck(createDevOrigin(), hosts)).listen(8787, '127.0.0.1');
 */
export function withHostCheck(origin: DevOrigin, hosts: AllowedHosts): OriginHandler {
  const dispatcher = dispatchers.get(origin);
  if (!dispatcher) throw new TypeError('withHostCheck needs an origin made by createDevOrigin');
  return (req, res, next) => dispatcher(req, res, next, hosts);
}
