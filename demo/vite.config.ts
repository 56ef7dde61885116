/**
 * `npm start`: the demo and the development origin on one port. The demo imports only the public
 * `tabtoken` entry (aliased to the sources here); the origin runs with its fault controls on.
 * Beside it runs a real OpenID provider (oidc-provider, on its own port, printed at start) whose
 * settings for the page are at `GET /demo/oidc-config`, and whose token answers and outage switch
 * the page (`/?origin=oidc`) reaches through `providerRoutes`. On the same port, better-auth
 * (email and password, its `jwt` plugin, memory adapter) is mounted at `/api/auth` — the app's own
 * origin, so its session cookie flows — for `/?origin=better-auth`; the app session routes of the
 * development origin serve `/?origin=endpoint`; `endpointRoutes` logs both token routes' answers
 * for the chart.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { defineConfig } from 'vite';
import { devOrigin } from '../origin/devOrigin.ts';
import { betterAuthPlugin } from '../dev/betterAuth/index.ts';
import { oidcProviderPlugin } from '../dev/oidc/oidcProviderPlugin.ts';
import { createTestSessionToken } from '../origin/testing.ts';
import { endpointRoutes } from './endpointRoutes.ts';
import { providerRoutes } from './providerRoutes.ts';

const secretKey = process.env.TABTOKEN_SECRET_KEY || 'sk_test_tabtoken';

/** `POST /demo/test-session`: the demo's server creates a test session token (it holds the secret key). */
function demoRoutes(): Plugin {
  const handle = async (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    if (req.method !== 'POST' || req.url !== '/demo/test-session') return next();
    try {
      const apiUrl = `http://${req.headers.host ?? 'localhost'}`;
      const userId = `user_demo_${Math.random().toString(36).slice(2, 8)}`;
      const token = await createTestSessionToken({ apiUrl, secretKey, userId, redirectUrl: '/' });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: token.url, userId }));
    } catch (error) {
      res.statusCode = 500;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
    }
  };
  return {
    name: 'tabtoken:demo-routes',
    configureServer(server) {
      server.middlewares.use((req, res, next) => void handle(req, res, next));
      server.httpServer?.once('listening', () => {
        const keyNote = process.env.TABTOKEN_SECRET_KEY ? 'from TABTOKEN_SECRET_KEY' : `${secretKey} (set TABTOKEN_SECRET_KEY to change it)`;
        server.config.logger.info(`  tabtoken: the development origin answers on the same port; fault controls on; secret key ${keyNote}`);
        server.config.logger.info(
          '  tabtoken: better-auth answers at /api/auth on the same port (memory store, 60 s JWTs): /?origin=better-auth; the app session routes: /?origin=endpoint',
        );
      });
    },
    configurePreviewServer: (server) => void server.middlewares.use((req, res, next) => void handle(req, res, next)),
  };
}

// Signing out of the OpenID provider lands back on the demo in its OpenID Connect mode (the first
// path is the one /demo/oidc-config gives the page); the bare page stays registered too.
const provider = oidcProviderPlugin({ postLogoutPaths: ['/?origin=oidc', '/'] });

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  resolve: { alias: { tabtoken: fileURLToPath(new URL('../client/index.ts', import.meta.url)) } },
  plugins: [
    devOrigin({ secretKey, faults: true, templates: { api: { claims: { aud: 'api' } }, short: { lifetimeSeconds: 20 } } }),
    demoRoutes(),
    provider,
    providerRoutes(() => provider.api.provider()),
    betterAuthPlugin(),
    endpointRoutes(),
  ],
  server: { host: '127.0.0.1', fs: { allow: ['..'] } },
  optimizeDeps: { include: ['comlink', 'idb-keyval', 'jose'] },
});
