/**
 * A real better-auth server (email and password, the `jwt` plugin, memory adapter) for development,
 * the tests, the benchmark and `npm start`: as a Node handler, as a Vite plugin, or alone on a port
 * of 127.0.0.1. Nothing shipped imports this folder.
 */
export {
  BETTER_AUTH_BASE_PATH,
  DEFAULT_BETTER_AUTH_TOKEN_LIFETIME_SECONDS,
  checkBetterAuthOptions,
  createBetterAuthServer,
  type BetterAuthServer,
  type BetterAuthServerOptions,
  type BetterAuthStats,
  type ConnectHandler,
  type DevBetterAuth,
} from './createBetterAuthServer.ts';
export { betterAuthPlugin, type BetterAuthPlugin, type BetterAuthPluginOptions } from './betterAuthPlugin.ts';
export { startBetterAuth, type RunningBetterAuth, type StartBetterAuthOptions } from './startBetterAuth.ts';
