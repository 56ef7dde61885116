import type { OriginTraits } from '../engine/TokenOrigin.ts';
import type { TokenOrigin } from '../engine/TokenOrigin.ts';

/**
 * A token origin whose code is loaded on first use (the OpenID Connect adapter: a chunk of its own,
 * so a Clerk manager's worker never carries it). The engine waits for `ready` before it asks for
 * anything — a tab is welcomed only once the engine is ready — so every call meets the loaded
 * origin. Until then the one method the engine may call is `abortAll` (it closes before the code has
 * loaded), which does nothing; anything else reads as absent (so the proxy is not a thenable).
 *
 * @example
 * const origin = lazyOrigin(() => import('../origins/oidc/OidcOrigin.ts').then((m) => new m.OidcOrigin(config, deps)));
 * await origin.ready;
 */
export function lazyOrigin(load: () => Promise<TokenOrigin>, traits: Partial<OriginTraits>): TokenOrigin {
  let loaded: TokenOrigin | null = null;
  const ready = load().then(async (origin) => {
    await origin.ready;
    loaded = origin;
  });
  return new Proxy({} as TokenOrigin, {
    // Every other member is a method: the adapter's use its private fields, so they run on it, not on the proxy.
    get: (_, name: keyof TokenOrigin) =>
      name === 'ready'
        ? ready
        : name === 'traits'
          ? traits
          : loaded
            ? (loaded[name] as (() => unknown) | undefined)?.bind(loaded)
            : name === 'abortAll'
              ? () => {}
              : undefined,
  });
}
