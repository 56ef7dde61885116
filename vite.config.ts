/**
 * One config for the library build and the tests.
 * - `vite build --mode worker`: dist/worker.js, the SharedWorker, self-contained (it may be served
 *   as a plain file), with the jose verification code in its own chunk, loaded only with `verify`.
 * - `vite build --mode client`: dist/index.js (the `tabtoken` entry) and dist/local.js (the
 *   local-mode engine, loaded on demand). Its dependencies stay imports for the app's bundler.
 * - `vite build --mode node`: dist/testing.js and dist/bin/tabtoken-origin.js.
 * - `vite build --mode bindings`: dist/react.js and dist/vue.js (`tabtoken/react`, `tabtoken/vue`),
 *   outside the client entry; `tabtoken`, react and vue stay imports.
 * - vitest: unit tests on Node, browser tests in Chromium (the development origin is mounted in
 *   the same Vite server, so tests reach it same-origin over real HTTP), end-to-end tests.
 */
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { playwright } from '@vitest/browser-playwright';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { devOrigin } from './origin/devOrigin.ts';
import { chromiumLaunchOptions } from './dev/browsers/chromium.ts';

/**
 * The built client must say `new SharedWorker(new URL('./worker.js', import.meta.url))` so the app's
 * bundler emits the worker; the source points at the TypeScript entry instead. The expression is
 * written after Vite's own worker handling ran, so this build does not bundle the worker twice.
 */
function builtWorkerUrl(): Plugin {
  const placeholder = '__TABTOKEN_WORKER_URL__';
  return {
    name: 'tabtoken:built-worker-url',
    enforce: 'pre',
    load(id) {
      if (!id.endsWith('/client/bundledWorker.ts')) return null;
      return `export function startBundledWorker(name) { return new SharedWorker(${placeholder}, { type: 'module', name }); }`;
    },
    renderChunk(code) {
      if (!code.includes(placeholder)) return null;
      return { code: code.replace(placeholder, "new URL('./worker.js', import.meta.url)"), map: null };
    },
  };
}

const external = ['comlink', 'idb-keyval', 'jose'];

export default defineConfig(({ mode }) => {
  if (mode === 'worker') {
    return {
      build: {
        outDir: 'dist',
        emptyOutDir: false,
        target: 'es2022',
        minify: false,
        lib: { entry: 'worker/sharedWorker.ts', formats: ['es'], fileName: () => 'worker.js' },
        rollupOptions: { output: { chunkFileNames: 'worker-[name].js' } },
      },
    };
  }
  if (mode === 'client') {
    return {
      plugins: [builtWorkerUrl()],
      build: {
        outDir: 'dist',
        emptyOutDir: false,
        target: 'es2022',
        minify: false,
        lib: { entry: { index: 'client/index.ts', local: 'worker/localHost.ts' }, formats: ['es'] },
        rollupOptions: { external, output: { entryFileNames: '[name].js', chunkFileNames: 'chunk-[name].js' } },
      },
    };
  }
  if (mode === 'bindings') {
    return {
      build: {
        outDir: 'dist',
        emptyOutDir: false,
        target: 'es2022',
        minify: false,
        lib: { entry: { react: 'bindings/react.ts', vue: 'bindings/vue.ts' } as Record<string, string>, formats: ['es'] },
        rollupOptions: {
          external: ['tabtoken', 'react', 'vue'],
          output: { entryFileNames: '[name].js', chunkFileNames: 'bindings-[name].js' },
        },
      },
    };
  }
  if (mode === 'node') {
    return {
      build: {
        outDir: 'dist',
        emptyOutDir: false,
        target: 'node20',
        minify: false,
        ssr: true,
        rollupOptions: {
          input: { testing: 'origin/testing.ts', 'bin/tabtoken-origin': 'origin/cli.ts' },
          external: [...external, 'vite', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
          output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'node-[name].js' },
        },
      },
    };
  }
  return {
    // The bindings import the public entry by name, as an app does; in the tests that is the source.
    resolve: { alias: [{ find: /^tabtoken$/, replacement: fileURLToPath(new URL('./client/index.ts', import.meta.url)) }] },
    plugins: [
      devOrigin({
        faults: true,
        templates: {
          api: { claims: { aud: 'api' } },
          short: { lifetimeSeconds: 20 },
          long: { lifetimeSeconds: 7200 },
        },
      }),
    ],
    // Scan only the test pages (the demo has its own config and its own `tabtoken` alias).
    optimizeDeps: {
      entries: ['test/browser/fixtures/*.html'],
      include: ['comlink', 'idb-keyval', 'jose', 'fast-check', 'react', 'react-dom/client', 'react/jsx-dev-runtime', 'vue'],
    },
    test: {
      projects: [
        {
          extends: true,
          test: {
            name: 'unit',
            environment: 'node',
            include: ['test/unit/**/*.test.{ts,tsx}', 'test/origin/**/*.test.ts', 'test/dev/**/*.test.ts'],
          },
        },
        {
          // The real OpenID provider (oidc-provider) and what is built around it, over real HTTP in Node.
          extends: true,
          test: {
            name: 'oidc',
            environment: 'node',
            include: ['test/oidc/**/*.test.ts'],
            testTimeout: 30_000,
          },
        },
        {
          extends: true,
          test: {
            name: 'browser',
            include: ['test/browser/**/*.test.{ts,tsx}'],
            fileParallelism: false,
            testTimeout: 60_000,
            hookTimeout: 60_000,
            browser: {
              enabled: true,
              headless: true,
              provider: playwright({ launchOptions: chromiumLaunchOptions() }),
              instances: [{ browser: 'chromium' }],
            },
          },
        },
        {
          extends: true,
          test: {
            name: 'e2e',
            environment: 'node',
            include: ['test/e2e/**/*.test.ts'],
            fileParallelism: false,
            testTimeout: 120_000,
            hookTimeout: 120_000,
          },
        },
      ],
    },
  };
});
