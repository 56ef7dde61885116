/**
 * The engine wired to the platform: the system clock, the global `fetch`, IndexedDB when `persist`
 * is on, and the token origin the config speaks. Kept apart from TokenEngine.ts so the engine
 * itself imports no platform code and runs on fakes in unit tests.
 */
import { systemClock } from '../protocol/clock.ts';
import { parseEngineConfig } from './engineConfig.ts';
import { InvalidArgumentError } from '../protocol/errors.ts';
import type { EngineConfig } from '../protocol/types.ts';
import { ClerkOrigin } from '../origins/clerk/ClerkOrigin.ts';
import { lazyOrigin } from './lazyOrigin.ts';
import { IdbTokenStore } from '../storage/IdbTokenStore.ts';
import { TokenEngine, type TokenEngineDeps } from '../engine/TokenEngine.ts';

/** What a caller may replace; `fetch` is what the default origin uses. */
export interface EngineOverrides extends Partial<TokenEngineDeps> {
  fetch?: typeof fetch;
}

/**
 * @example
 * const engine = createEngine(config);
 * engine.subscribe((change) => channel.postMessage({ v: 1, instance, ...change }));
 */
export function createEngine(untrusted: EngineConfig, overrides: EngineOverrides = {}): TokenEngine {
  // The config comes from the first tab: it goes through the same validation as the tab's options.
  const config = parseEngineConfig(untrusted);
  // The endpoint adapter (SPEC 13) is not part of this build yet: refuse rather than speak the Clerk
  // Frontend API to the app's own server.
  if (config.endpoint && !overrides.origin) throw new InvalidArgumentError('endpoint: this worker has no adapter for the app\'s own token endpoint yet');
  const clock = overrides.clock ?? systemClock;
  const fetchImpl = overrides.fetch ?? globalThis.fetch.bind(globalThis);
  return new TokenEngine(config, {
    clock,
    origin:
      overrides.origin ??
      (config.oidc
        ? lazyOrigin(() => import('./oidcOrigin.ts').then(({ createOidcOrigin }) => createOidcOrigin(config, { clock, fetch: fetchImpl })))
        : new ClerkOrigin(config, { clock, fetch: fetchImpl })),
    store: overrides.store !== undefined ? overrides.store : config.persist ? new IdbTokenStore(config) : null,
    random: overrides.random ?? Math.random,
  });
}
