import type { OriginTraits } from '../../engine/TokenOrigin.ts';

/**
 * How an OpenID Connect origin differs from the Clerk Frontend API's ways: one access token per
 * grant, and no other session to switch to. Apart from the adapter, so the worker knows them before
 * the adapter's chunk has loaded.
 */
export const OIDC_TRAITS: Partial<OriginTraits> = Object.freeze({ oneToken: true, switchable: false });
