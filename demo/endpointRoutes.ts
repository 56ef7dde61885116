/**
 * The demo server's window onto the app's own token endpoints, for the page's chart and outage
 * control when it runs against one (`/?origin=endpoint`, `/?origin=better-auth`). Node side, in
 * front of the development origin and better-auth (`enforce: 'pre'`), it sees every answer of
 * their token routes as the browser gets it — the worker's calls, whichever tab caused them:
 * - `GET /demo/endpoint-log?route=app|better-auth[&since=ms]` → `{ now, tokens, outage, answers }`:
 *   `answers` the route's answers at or after `since` (this server's clock, ms) as `{ at, status }`
 *   (`status` 0 when the connection closed before an answer), `tokens` every 2xx answer since the
 *   server started, `outage` better-auth's switch below (the development origin says its own in
 *   `GET /__origin/stats`), `now` this server's clock, so a page on another clock can place `at`.
 * - `POST /demo/endpoint-outage` `{ mode: 'off' | 'down' }` (JSON, loopback only): `down` answers
 *   503 in front of better-auth's `GET /api/auth/token`, as a server in trouble would. (The
 *   development origin has its own switch, `POST /__origin/outage`, which reaches its token route.)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'vite';
import { sendJson as sendOriginJson } from '../origin/http.ts';
import { fromThisMachine, readJson, sinceParam } from './routeInputs.ts';

/** The token routes the log follows. */
export const ENDPOINT_ROUTES = {
  app: { method: 'POST', path: '/app/session/token' },
  'better-auth': { method: 'GET', path: '/api/auth/token' },
} as const;

export type EndpointRoute = keyof typeof ENDPOINT_ROUTES;

/** One answer of a token route, as `/demo/endpoint-log` gives it. */
export interface EndpointAnswer {
  /** When it was answered (this server's clock, ms). */
  at: number;
  /** The status sent; 0 when the connection closed first. */
  status: number;
}

/** Answers kept per route (the chart's window holds far fewer). */
const MAX_ANSWERS = 10_000;

const now = (): number => performance.timeOrigin + performance.now();

/** A JSON answer of the demo's own routes, never cached. */
const sendJson = (res: ServerResponse, status: number, body: unknown): void => sendOriginJson(res, status, body, { 'cache-control': 'no-store' });

function routeOf(req: IncomingMessage, path: string): EndpointRoute | null {
  for (const [name, route] of Object.entries(ENDPOINT_ROUTES) as [EndpointRoute, (typeof ENDPOINT_ROUTES)[EndpointRoute]][]) {
    if (req.method === route.method && path === route.path) return name;
  }
  return null;
}

/**
 * The log and the switch, as a Vite plugin for the dev server and `vite preview`.
 *
 * @example
 * export default defineConfig({ plugins: [endpointRoutes(), devOrigin({ faults: true }), betterAuthPlugin()] });
 */
export function endpointRoutes(): Plugin {
  const answers: Record<EndpointRoute, EndpointAnswer[]> = { app: [], 'better-auth': [] };
  const tokens: Record<EndpointRoute, number> = { app: 0, 'better-auth': 0 };
  let betterAuthDown = false;

  const record = (route: EndpointRoute, res: ServerResponse): void => {
    // 'close' comes after the answer is sent, or instead of it when the connection went first.
    res.once('close', () => {
      const status = res.writableFinished ? res.statusCode : 0;
      if (status >= 200 && status < 300) tokens[route] += 1;
      const list = answers[route];
      list.push({ at: now(), status });
      if (list.length > MAX_ANSWERS) list.splice(0, list.length - MAX_ANSWERS);
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, next: () => void): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://demo.invalid');
    const route = routeOf(req, url.pathname);
    if (route) {
      record(route, res);
      if (route === 'better-auth' && betterAuthDown)
        return sendJson(res, 503, { code: 'SERVICE_UNAVAILABLE', message: "the demo's better-auth outage switch is down" });
      return next();
    }
    if (req.method === 'GET' && url.pathname === '/demo/endpoint-log') {
      const asked = url.searchParams.get('route');
      const since = sinceParam(url);
      if (asked !== 'app' && asked !== 'better-auth') return sendJson(res, 400, { error: 'route must be app or better-auth' });
      if (since === null) return sendJson(res, 400, { error: "since must be one integer number of milliseconds on the server's clock" });
      return sendJson(res, 200, {
        now: now(),
        tokens: tokens[asked],
        outage: betterAuthDown ? 'down' : 'off',
        answers: answers[asked].filter((a) => a.at >= since),
      });
    }
    if (req.method === 'POST' && url.pathname === '/demo/endpoint-outage') {
      if (!fromThisMachine(req)) return sendJson(res, 403, { error: 'the outage is switched from this machine only' });
      const body = await readJson(req);
      const mode = typeof body === 'object' && body !== null && 'mode' in body ? body.mode : undefined;
      if (mode !== 'off' && mode !== 'down') return sendJson(res, 422, { error: 'send JSON { "mode": "off" | "down" }' });
      betterAuthDown = mode === 'down';
      return sendJson(res, 200, { outage: mode });
    }
    next();
  };

  const middleware = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    handle(req, res, next).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  };
  return {
    name: 'tabtoken:demo-endpoint-routes',
    // Ahead of the development origin and better-auth, which answer their routes and call no next.
    enforce: 'pre',
    configureServer: (server) => void server.middlewares.use(middleware),
    configurePreviewServer: (server) => void server.middlewares.use(middleware),
  };
}
