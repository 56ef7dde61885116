/**
 * The development origin as a Vite plugin: the same origin mounted on the dev server and on
 * `vite preview`, ahead of Vite's own middlewares, passing on every request it does not serve.
 *
 * Two rules of the standalone server hold here too, read from the config Vite resolved:
 * - the default secret key is public knowledge, so a server that listens beyond loopback
 *   (`vite --host`, `server.host: true`, `'0.0.0.0'`, a LAN address) refuses to start with it;
 * - only requests whose `Host` names this machine or an allowed host are answered (DNS rebinding,
 *   see `AllowedHosts.ts`). Over http Vite checks `Host` itself against `server.allowedHosts`
 *   before any plugin runs, and its rule (which also lets any IP address through) stands. Over
 *   https, with `allowedHosts: true`, and in Vite versions older than `allowedHosts`, Vite checks
 *   nothing, so the plugin does: this machine, the hosts `allowedHosts` lists and the host Vite
 *   was told to listen on; anything else gets 403 `host_not_allowed` from the origin's paths
 *   (Vite's own paths stay Vite's business).
 */
import type { Plugin } from 'vite';
import { InvalidArgumentError } from '../protocol/errors.ts';
import { AllowedHosts } from './AllowedHosts.ts';
import { createDevOrigin, withHostCheck, type DevOrigin, type OriginHandler } from './createDevOrigin.ts';
import { isLoopbackHost } from './loopback.ts';
import { DEFAULT_SECRET_KEY, type DevOriginOptions } from './options.ts';

/** The plugin, with the origin it mounts reachable as `plugin.api.origin` (its key, stats, JWKS). */
export interface DevOriginPlugin extends Plugin {
  api: { origin: DevOrigin };
}

/** The part of Vite's resolved `server` or `preview` options the plugin reads. */
export interface ListenOptions {
  host?: string | boolean | undefined;
  /** Absent in Vite releases from before `allowedHosts` existed, which checked no `Host` at all. */
  allowedHosts?: string[] | true | undefined;
  https?: unknown;
}

/** `server` or `preview`: where in the Vite config the options were read, for the messages. */
type ConfigSection = 'server' | 'preview';

/**
 * Whether Vite listens beyond loopback with these options. Vite binds `localhost` when `host` is
 * unset or false, every interface for `true`, and the given address otherwise.
 *
 * @example
 * listensBeyondLoopback({ host: true, allowedHosts: [] }) // true
 * listensBeyondLoopback({ allowedHosts: [] })             // false
 */
export function listensBeyondLoopback(options: ListenOptions): boolean {
  const { host } = options;
  if (host === undefined || host === false) return false;
  return host === true || !isLoopbackHost(host);
}

/** Throws `InvalidArgumentError` when the default secret key would be served beyond loopback. */
function refuseDefaultKeyBeyondLoopback(origin: DevOrigin, options: ListenOptions, section: ConfigSection): void {
  if (origin.secretKey !== DEFAULT_SECRET_KEY || !listensBeyondLoopback(options)) return;
  const where = options.host === true ? 'every address' : String(options.host);
  throw new InvalidArgumentError(
    `devOrigin refuses to serve the default secret key ${DEFAULT_SECRET_KEY} on ${where} (${section}.host): ` +
      'pass devOrigin({ secretKey }) or set TABTOKEN_SECRET_KEY, or listen on a loopback address',
  );
}

/**
 * The handler to mount for a Vite server with these options: the origin itself where Vite checks
 * `Host` (http with a list of allowed hosts), the origin behind its own host check elsewhere.
 *
 * @example
 * server.middlewares.use(originHandlerFor(origin, server.config.server, 'server'));
 */
export function originHandlerFor(origin: DevOrigin, options: ListenOptions, section: ConfigSection): OriginHandler {
  const viteChecks = Array.isArray(options.allowedHosts) && !options.https;
  if (viteChecks) return origin;
  const listed = Array.isArray(options.allowedHosts) ? options.allowedHosts : [];
  const howToAllow = `To allow it, add it to ${section}.allowedHosts in the Vite config.`;
  let hosts = AllowedHosts.lenient(listed, howToAllow);
  if (typeof options.host === 'string') hosts = hosts.including(options.host);
  return withHostCheck(origin, hosts);
}

/**
 * Serves the development token origin from the Vite server itself, so the app, the tests and the
 * origin share one origin and one port. Bad options throw when the config is loaded; the default
 * secret key on a server listening beyond loopback throws when the server starts.
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
      refuseDefaultKeyBeyondLoopback(origin, server.config.server, 'server');
      server.middlewares.use(originHandlerFor(origin, server.config.server, 'server'));
    },
    configurePreviewServer(server) {
      refuseDefaultKeyBeyondLoopback(origin, server.config.preview, 'preview');
      server.middlewares.use(originHandlerFor(origin, server.config.preview, 'preview'));
    },
  };
}
