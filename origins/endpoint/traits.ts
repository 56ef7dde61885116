import type { OriginTraits } from '../../engine/TokenOrigin.ts';

/**
 * How the app's own token endpoint differs from the Clerk Frontend API's ways: one token; a session
 * that is the app's cookie, looked up only when asked (each call may rotate the cookie) and named
 * after the token's user. Apart from the adapter, so the worker knows them before the adapter's
 * chunk has loaded.
 */
export const ENDPOINT_TRAITS: Partial<OriginTraits> = Object.freeze({ oneToken: true, switchable: false, pollSignedOut: false, sessionFromToken: true });
