/**
 * The development origin as a Vite plugin: the same handler mounted on the dev server and on
 * `vite preview`, ahead of Vite's own middlewares, passing on every request it does not serve.
 */
import type { Plugin } from 'vite';
import { createDevOrigin, type DevOrigin } from './createDevOrigin.ts';
import type { DevOriginOptions } from './options.ts';

/** The plugin, with the origin it mounts reachable as `plugin.api.origin` (its key, stats, JWKS). */
export interface DevOriginPlugin extends Plugin {
  api: { origin: DevOrigin };
}

/**
 * Serves the development token origin from the Vite server itself, so the app, the tests and the
 * origin share one origin and one port. Bad options throw when the config is loaded.
 *
 * @example
 * // vite.config.ts
 * import { defineConfig } from 'vite';
 * import { devOrigin } from 'tabtoken/testing';
 * export default defineConfig({ plugins: [devOrigin({ faults: true })] });
 */
export function devOrigin(options?: DevOriginOptions): DevOriginPlugin {
  const origin = createDevOrigin(options);
  return {
    name: 'tabtoken:dev-origin',
    api: { origin },
    configureServer(server) {
      server.middlewares.use(origin);
    },
    configurePreviewServer(server) {
      server.middlewares.use(origin);
    },
  };
}
