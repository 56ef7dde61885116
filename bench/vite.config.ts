/**
 * The benchmark server: the bench pages built by Vite for production (minified, as an app ships
 * them) and served by `vite preview` together with the development origin, same-origin, on
 * 127.0.0.1. `bench/run.mjs` builds and starts it; it reaches the request log and the browser launch
 * options through the `tabtoken:bench` plugin's `api`, so the plain-JS runner can reuse TypeScript.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { createOriginWith } from '../origin/createDevOrigin.ts';
import { supabaseRoutes } from './origin/supabaseRoutes.ts';
import { chromiumLaunchOptions } from '../dev/browsers/chromium.ts';
import * as engines from '../dev/browsers/index.ts';

/** One request to the token origin, as the benchmark sees it arrive. */
export interface LoggedRequest {
  /** Arrival, `performance.timeOrigin + performance.now()` of this process (ms since the epoch). */
  at: number;
  method: string;
  /** Path and query. */
  url: string;
  status: number;
  /** The `bench_run` cookie: which benchmark run (one browser context) sent it. */
  run: string | null;
  /** The token a successful mint answered (`jwt` or `access_token`), to match mints with reads. */
  token: string | null;
}

/** What `bench/run.mjs` reaches through the plugin. */
export interface BenchApi {
  /** Every origin request since the last `clear()`, in arrival order. */
  log: LoggedRequest[];
  clear(): void;
  chromiumLaunchOptions: typeof chromiumLaunchOptions;
  /** The engine-neutral browser drivers (dev/browsers/), for the cross-engine measurements. */
  engines: typeof engines;
}

/** Only the origin's API is logged; the pages and their assets are not requests to an auth server. */
const API_PATH = /^\/(?:v1|auth\/v1)\//;

/** The token in a mint's JSON answer, in either protocol's shape. */
function tokenIn(body: unknown): string | null {
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) return null;
  try {
    const json: unknown = JSON.parse(body.toString());
    if (typeof json !== 'object' || json === null) return null;
    if ('jwt' in json && typeof json.jwt === 'string') return json.jwt;
    if ('access_token' in json && typeof json.access_token === 'string') return json.access_token;
  } catch {
    // Not JSON (an HTML error page, a cut-off body): no token.
  }
  return null;
}

function runOf(req: IncomingMessage): string | null {
  const match = /(?:^|;\s*)bench_run=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '');
  return match?.[1] ?? null;
}

/**
 * Logs every request to the origin with its arrival time and the run that sent it. The origin's
 * own `/__origin/stats` counts per route for the whole server; the benchmarks run contenders side
 * by side (one browser context each), so they need the count per run and the time of each request
 * (to tell whether it came before a tab's first token).
 */
function requestLog(): Plugin & { api: BenchApi } {
  const api: BenchApi = {
    log: [],
    clear() {
      api.log.length = 0;
    },
    chromiumLaunchOptions,
    engines,
  };
  const record = (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const url = req.url ?? '/';
    if (!API_PATH.test(url)) return next();
    const entry: LoggedRequest = { at: performance.timeOrigin + performance.now(), method: req.method ?? '', url, status: 0, run: runOf(req), token: null };
    // The origin answers with one `res.end(body)`; reading it there tells which token a mint made.
    const end = res.end;
    res.end = function (this: ServerResponse, ...args: Parameters<ServerResponse['end']>) {
      if (req.method === 'POST') entry.token = tokenIn(args[0]);
      return end.apply(this, args);
    } as ServerResponse['end'];
    res.on('finish', () => {
      entry.status = res.statusCode;
      api.log.push(entry);
    });
    next();
  };
  return {
    name: 'tabtoken:bench',
    api,
    // Registered before the origin's middleware (plugin order), so it sees every API request first.
    configurePreviewServer: (server) => void server.middlewares.use(record),
    configureServer: (server) => void server.middlewares.use(record),
  };
}

/**
 * package.json says `"sideEffects": false` (right for the library's consumers), so a bundler drops a
 * bare `import '…/sharedWorker.ts'`. The instrumented worker of the fan-out run is exactly such an
 * import of the unmodified worker, whose whole point is its side effect (`onconnect`): keep it.
 */
function keepWorkerSideEffects(): Plugin {
  return {
    name: 'tabtoken:bench-keep-worker',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (!source.endsWith('/worker/sharedWorker.ts') || !importer?.endsWith('/instrumentedWorker.ts')) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      return resolved && { ...resolved, moduleSideEffects: true };
    },
  };
}

/** The development origin with the Supabase Auth protocol beside it, for the peer contender. */
function benchOrigin(): Plugin {
  const origin = createOriginWith({ faults: true }, supabaseRoutes);
  return {
    name: 'tabtoken:bench-origin',
    configureServer: (server) => void server.middlewares.use(origin),
    configurePreviewServer: (server) => void server.middlewares.use(origin),
  };
}

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  // `tabtoken` is the client as a consumer imports it; the sources, built by this config.
  resolve: { alias: [{ find: /^tabtoken$/, replacement: fileURLToPath(new URL('../client/index.ts', import.meta.url)) }] },
  plugins: [requestLog(), benchOrigin()],
  logLevel: 'warn',
  build: {
    target: 'es2022',
    emptyOutDir: true,
    // The build goes to a temporary folder chosen by run.mjs; nothing is written under bench/.
    rollupOptions: {
      input: {
        contender: fileURLToPath(new URL('./pages/contender.html', import.meta.url)),
        backForward: fileURLToPath(new URL('./pages/backForward.html', import.meta.url)),
      },
    },
  },
  // The library's worker is a module worker that loads its verification code on demand.
  worker: { format: 'es', plugins: () => [keepWorkerSideEffects()] },
  // Cross-origin isolated (SPEC section 10), so every engine gives the pages its finest timer. Every
  // page, script and worker is served by this server, so nothing is blocked by the embedder policy.
  preview: {
    host: '127.0.0.1',
    strictPort: false,
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' },
  },
});
