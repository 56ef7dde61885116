/**
 * The token-endpoint benchmark's tab page, built by Vite for production. Each run serves the build
 * from a server of its own (`serverPlugins.ts`, started by `measure.mjs` with `vite preview`), so each
 * run has its own origin: its own app session routes, better-auth server, clock and counters.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('./pages', import.meta.url));

export default defineConfig({
  root,
  // The tabtoken contender imports the public entry, as an app would; the sources, built here.
  resolve: { alias: [{ find: /^tabtoken$/, replacement: fileURLToPath(new URL('../../client/index.ts', import.meta.url)) }] },
  logLevel: 'warn',
  build: {
    target: 'es2022',
    emptyOutDir: true,
    rollupOptions: { input: { tab: fileURLToPath(new URL('./pages/tab.html', import.meta.url)) } },
  },
  worker: { format: 'es' },
});
