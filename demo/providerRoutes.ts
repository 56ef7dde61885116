/**
 * The demo server's window onto the running OpenID provider, for the page's chart and outage
 * control in OpenID Connect mode (Node side, beside `oidcProviderPlugin`):
 * - `GET /demo/oidc-log[?since=ms]` → `{ now, refreshes, outage, answers }`: the token endpoint's
 *   answers to the demo's client as the provider itself recorded them (its `ProviderEventLog`, not
 *   any tab's counters) — `answers` those at or after `since` on the provider's clock, `refreshes`
 *   every 2xx refresh-token grant since the provider started, `now` the provider's clock, so a page
 *   on another clock can place `at` on its own.
 * - `POST /demo/oidc-outage` `{ mode: 'off' | 'down' }` (JSON, loopback only): `down` stops the
 *   proxy in front of the provider, so the provider and its grants live on; `off` starts it again.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'vite';
import { sendJson as sendOriginJson } from '../origin/http.ts';
import { fromThisMachine, readJson, sinceParam } from './routeInputs.ts';
import type { ProviderEvent } from '../dev/oidc/ProviderEventLog.ts';
import type { RunningOidcProvider } from '../dev/oidc/startOidcProvider.ts';

/** One answer of the token endpoint, as `/demo/oidc-log` gives it. */
export interface ProviderAnswer {
  /** When the provider answered (its clock, ms). */
  at: number;
  /** `authorization_code` (a sign-in), `refresh_token`, or null when the request named none. */
  grant: string | null;
  status: number;
  /** `expires_in` of a 2xx answer; null for an error. */
  expiresIn: number | null;
  /** The OAuth error code of an error answer (`invalid_grant`, `use_dpop_nonce`, …); null for a 2xx. */
  error: string | null;
}

export type ProviderOutage = 'off' | 'down';

/** Most answers one reply carries: the chart's window holds far fewer. */
const MAX_ANSWERS = 10_000;

const now = (): number => performance.timeOrigin + performance.now();

/** A JSON answer of the demo's own routes, never cached. */
const sendJson = (res: ServerResponse, status: number, body: unknown): void => sendOriginJson(res, status, body, { 'cache-control': 'no-store' });

/** The demo client's token-endpoint answers among the provider's events. */
function answerOf(event: ProviderEvent, clientId: string): ProviderAnswer | null {
  if ((event.type === 'code' || event.type === 'refresh') && event.clientId === clientId) {
    return {
      at: event.at,
      grant: event.type === 'code' ? 'authorization_code' : 'refresh_token',
      status: 200,
      expiresIn: Number.isFinite(event.expiresIn) ? event.expiresIn : null,
      error: null,
    };
  }
  // A request whose client the provider could not tell is counted as the demo's: it is the only public client.
  if (event.type === 'token_error' && (event.clientId === clientId || event.clientId === null)) {
    return { at: event.at, grant: event.grantType, status: event.status, expiresIn: null, error: event.error };
  }
  return null;
}

/**
 * The routes, reading the provider through `provider()` (null until it has started).
 *
 * @example
 * const op = oidcProviderPlugin();
 * export default defineConfig({ plugins: [op, providerRoutes(() => op.api.provider())] });
 */
export function providerRoutes(provider: () => RunningOidcProvider | null): Plugin {
  // Stops and starts of the proxy one after the other, so two tabs clicking at once cannot interleave them.
  let switching: Promise<unknown> = Promise.resolve();

  const handle = async (req: IncomingMessage, res: ServerResponse, next: () => void): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://demo.invalid');
    const isLog = req.method === 'GET' && url.pathname === '/demo/oidc-log';
    const isOutage = req.method === 'POST' && url.pathname === '/demo/oidc-outage';
    if (!isLog && !isOutage) return next();
    const op = provider();
    if (!op) return sendJson(res, 503, { error: 'the OpenID provider is not running' });

    if (isLog) {
      const since = sinceParam(url);
      if (since === null) return sendJson(res, 400, { error: "since must be one integer number of milliseconds on the provider's clock" });
      let refreshes = 0;
      const answers: ProviderAnswer[] = [];
      for (const event of op.events.events) {
        const answer = answerOf(event, op.clientId);
        if (!answer) continue;
        if (answer.grant === 'refresh_token' && answer.status === 200) refreshes += 1;
        if (answer.at >= since) answers.push(answer);
      }
      const outage: ProviderOutage = op.proxy.running ? 'off' : 'down';
      return sendJson(res, 200, { now: now(), refreshes, outage, answers: answers.slice(-MAX_ANSWERS) });
    }

    if (!fromThisMachine(req)) return sendJson(res, 403, { error: 'the provider outage is switched from this machine only' });
    const body = await readJson(req);
    const mode = typeof body === 'object' && body !== null && 'mode' in body ? body.mode : undefined;
    if (mode !== 'off' && mode !== 'down') return sendJson(res, 422, { error: 'send JSON { "mode": "off" | "down" }' });
    const done = switching.then(() => (mode === 'down' ? op.proxy.stop('refuse') : op.proxy.start()));
    switching = done.catch(() => {});
    try {
      await done;
      sendJson(res, 200, { outage: op.proxy.running ? 'off' : 'down' });
    } catch (error) {
      sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
    }
  };

  const middleware = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    handle(req, res, next).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  };
  return {
    name: 'tabtoken:demo-provider-routes',
    configureServer: (server) => void server.middlewares.use(middleware),
    configurePreviewServer: (server) => void server.middlewares.use(middleware),
  };
}
