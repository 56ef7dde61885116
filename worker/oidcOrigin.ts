/**
 * The OpenID Connect origin wired to the platform: the adapter with its grant kept in IndexedDB
 * under the worker key, and the page's Web Locks. A chunk of its own, loaded only by an OpenID
 * Connect manager, so a Clerk manager's worker carries none of it.
 */
import type { Clock } from '../protocol/clock.ts';
import { workerKey } from '../protocol/names.ts';
import type { EngineConfig } from '../protocol/types.ts';
import type { Grant, PendingSignIn, StoredDiscovery } from '../origins/oidc/grant.ts';
import { OidcOrigin } from '../origins/oidc/OidcOrigin.ts';
import { GrantStore } from '../storage/GrantStore.ts';

/**
 * @example
 * const origin = lazyOrigin(() => import('./oidcOrigin.ts').then((m) => m.createOidcOrigin(config, { clock, fetch })), traits);
 */
export function createOidcOrigin(config: EngineConfig, deps: { clock: Clock; fetch: typeof fetch }): OidcOrigin {
  const store = new GrantStore<Grant, PendingSignIn, StoredDiscovery>(`${workerKey(config)}:oidc`, config.persist);
  return new OidcOrigin(config, { ...deps, locks: globalThis.navigator?.locks, store });
}
