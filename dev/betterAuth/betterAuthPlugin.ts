/**
 * The better-auth server as a Vite plugin: mounted on the dev server and on `vite preview`, ahead of
 * Vite's own middlewares, so the app, its sign-in page and better-auth share one origin and the
 * session cookie (host-only, SameSite=Lax) flows with every same-origin fetch.
 */
import type { Plugin, PreviewServer, ViteDevServer } from 'vite';
import { BETTER_AUTH_BASE_PATH, checkBetterAuthOptions, createBetterAuthServer, type BetterAuthServer } from './createBetterAuthServer.ts';

/** Options of {@link betterAuthPlugin}. */
export interface BetterAuthPluginOptions {
  /**
   * The app's URL, such as `http://localhost:5173`. Default: the server's own, read once it
   * listens (the port is known only then, and Vite may move to the next free one): `localhost`,
   * or the `host` Vite was told to use, with the port it got. Pass it when Vite runs in middleware
   * mode (there is no server of Vite's own to read) or behind a proxy that changes the origin.
   */
  baseURL?: string;
  /** Lifetime of the JWTs of `GET /api/auth/token`, an integer 1..86400. Default 60. */
  tokenLifetimeSeconds?: number;
  /**
   * More trusted origins. When `baseURL` is read from the server, `localhost`, `127.0.0.1` and
   * `[::1]` at its port are trusted already, so a person may open the app under either name; a
   * page opened by a LAN address (`--host`) needs that origin listed here.
   */
  trustedOrigins?: string[];
  /** Silences better-auth's own log. Default false. */
  quiet?: boolean;
}

/** The plugin, with the mounted server reachable as `plugin.api.server()` (null until the server listens, when `baseURL` is read from it). */
export interface BetterAuthPlugin extends Plugin {
  api: { server(): BetterAuthServer | null };
}

type AnyServer = ViteDevServer | PreviewServer;

/** `host` as Vite's config has it: a name to print, or `true`/a wildcard for every interface. */
function urlHostName(host: string | boolean | undefined): string {
  if (typeof host !== 'string' || host === '' || host === '0.0.0.0' || host === '::' || host === '[::]') return 'localhost';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * Serves better-auth (email and password, the `jwt` plugin, memory adapter) from the Vite server
 * itself at `/api/auth/*`. Bad options throw when the config is loaded.
 *
 * @example
 * // vite.config.ts
 * import { defineConfig } from 'vite';
 * import { betterAuthPlugin } from './dev/betterAuth/index.ts';
 * export default defineConfig({ plugins: [betterAuthPlugin({ tokenLifetimeSeconds: 20 })] });
 * // a page: createTokenManager({ endpoint: { tokenUrl: '/api/auth/token', method: 'GET', signOutUrl: '/api/auth/sign-out' } })
 */
export function betterAuthPlugin(o: BetterAuthPluginOptions = {}): BetterAuthPlugin {
  const make = (baseURL: string, trustedOrigins: string[]): BetterAuthServer =>
    createBetterAuthServer({ baseURL, tokenLifetimeSeconds: o.tokenLifetimeSeconds, trustedOrigins, quiet: o.quiet });
  // Bad options throw now, when the config is loaded, rather than once the server listens.
  checkBetterAuthOptions({ ...o, baseURL: o.baseURL ?? 'http://localhost' });
  let current: BetterAuthServer | null = o.baseURL === undefined ? null : make(o.baseURL, o.trustedOrigins ?? []);

  const mount = (server: AnyServer, host: string | boolean | undefined, https: boolean): void => {
    if (!current) {
      const http = server.httpServer;
      if (!http) throw new Error('betterAuthPlugin: Vite runs without a server of its own (middleware mode), so the app URL cannot be read: pass baseURL');
      http.once('listening', () => {
        const address = http.address();
        if (address === null || typeof address === 'string') return;
        const scheme = https ? 'https' : 'http';
        const port = address.port;
        const loopback = ['localhost', '127.0.0.1', '[::1]'].map((name) => `${scheme}://${name}:${port}`);
        current = make(`${scheme}://${urlHostName(host)}:${port}`, [...loopback, ...(o.trustedOrigins ?? [])]);
      });
    }
    server.middlewares.use((req, res, next) => {
      if (current) return current.handler(req, res, next);
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path !== BETTER_AUTH_BASE_PATH && !path.startsWith(`${BETTER_AUTH_BASE_PATH}/`)) return next();
      // Only reachable before 'listening' has run, which no browser request can be.
      res.statusCode = 503;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ code: 'NOT_READY', message: 'better-auth starts once the server listens' }));
    });
  };

  return {
    name: 'tabtoken:better-auth',
    api: { server: () => current },
    configureServer(server) {
      mount(server, server.config.server.host, Boolean(server.config.server.https));
    },
    configurePreviewServer(server) {
      mount(server, server.config.preview.host, Boolean(server.config.preview.https));
    },
  };
}
