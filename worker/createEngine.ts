/**
 * The engine wired to the platform: the system clock, the global `fetch`, IndexedDB when `persist`
 * is on, and the token origin the config speaks. Kept apart from TokenEngine.ts so the engine
 * itself imports no platform code and runs on fakes in unit tests.
 */
import { systemClock } from '../protocol/clock.ts';
import type { EngineConfig } from '../protocol/types.ts';
import { ClerkOrigin } from '../origins/clerk/ClerkOrigin.ts';
import { lazyOrigin } from './lazyOrigin.ts';
import { OIDC_TRAITS } from '../origins/oidc/traits.ts';
import { ENDPOINT_TRAITS } from '../origins/endpoint/traits.ts';
import { IdbTokenStore } from '../storage/IdbTokenStore.ts';
import { TokenEngine, type TokenEngineDeps } from '../engine/TokenEngine.ts';

/** What a caller may replace; `fetch` is what the default origin uses. */
export interface EngineOverrides extends Partial<TokenEngineDeps> {
  fetch?: typeof fetch;
  /** Web Locks for the grant lock of an origin that holds a credential (default the platform's). */
  locks?: LockManager;
}

/**
 * @example
 * const engine = createEngine(config);
 * engine.subscribe((change) => channel.postMessage({ v: 1, instance, ...change }));
 */
export function createEngine(config: EngineConfig, overrides: EngineOverrides = {}): TokenEngine {
  const clock = overrides.clock ?? systemClock;
  const fetchImpl = overrides.fetch ?? globalThis.fetch.bind(globalThis);
  return new TokenEngine(config, {
    clock,
    origin:
      overrides.origin ??
      (config.oidc
        ? lazyOrigin(() => import('./oidcOrigin.ts').then(({ createOidcOrigin }) => createOidcOrigin(config, { clock, fetch: fetchImpl })), OIDC_TRAITS)
        : config.endpoint
          ? lazyOrigin(
              () =>
                import('../origins/endpoint/EndpointOrigin.ts').then(
                  ({ EndpointOrigin }) => new EndpointOrigin(config, { clock, fetch: fetchImpl, locks: overrides.locks ?? globalThis.navigator?.locks }),
                ),
              ENDPOINT_TRAITS,
            )
          : new ClerkOrigin(config, { clock, fetch: fetchImpl })),
    store: overrides.store !== undefined ? overrides.store : config.persist ? new IdbTokenStore(config) : null,
    random: overrides.random ?? Math.random,
  });
}
