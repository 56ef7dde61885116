/**
 * The OpenID Connect benchmark's pages (a tab and the redirect page), built by Vite for production
 * and served by `vite preview` on 127.0.0.1. The runner (`bench/oidc/measure.mjs`) starts the
 * provider once this server listens and tells the pages where it is through the plugin's `api`;
 * the pages read it from `GET /bench-oidc/config.json`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import type { OidcBenchConfig } from './pages/OidcContender.ts';

export interface OidcBenchApi {
  config: OidcBenchConfig | null;
}

function benchConfig(): Plugin & { api: OidcBenchApi } {
  const api: OidcBenchApi = { config: null };
  const serve = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (req.url !== '/bench-oidc/config.json') return next();
    res.setHeader('content-type', 'application/json');
    res.setHeader('cache-control', 'no-store');
    res.statusCode = api.config ? 200 : 503;
    res.end(JSON.stringify(api.config ?? { error: 'the provider is not running yet' }));
  };
  return {
    name: 'tabtoken:bench-oidc',
    api,
    configurePreviewServer: (server) => void server.middlewares.use(serve),
    configureServer: (server) => void server.middlewares.use(serve),
  };
}

const root = fileURLToPath(new URL('./pages', import.meta.url));

export default defineConfig({
  root,
  // The tabtoken contender imports the public entry, as an app would; the sources, built here.
  resolve: { alias: [{ find: /^tabtoken$/, replacement: fileURLToPath(new URL('../../client/index.ts', import.meta.url)) }] },
  plugins: [benchConfig()],
  logLevel: 'warn',
  build: {
    target: 'es2022',
    emptyOutDir: true,
    rollupOptions: {
      input: {
        tab: fileURLToPath(new URL('./pages/tab.html', import.meta.url)),
        callback: fileURLToPath(new URL('./pages/callback.html', import.meta.url)),
      },
    },
  },
  worker: { format: 'es' },
  preview: { host: '127.0.0.1', strictPort: false },
});
