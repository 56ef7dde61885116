/**
 * `tabtoken/testing`: the development token origin and the Node helpers a test uses to sign a
 * browser in and to mint tokens from the server side (SPEC section 9).
 */
export { createDevOrigin, type DevOrigin } from './createDevOrigin.ts';
export { devOrigin, type DevOriginPlugin } from './devOrigin.ts';
export type { DevOriginOptions, TemplateOptions } from './options.ts';
export type { OriginStats } from './OriginState.ts';
export type { JsonWebKeySet } from './TokenSigner.ts';
export { createTestSessionToken, getSessionToken, revokeTestSessionToken, TestingApiError, type TestSessionToken } from './backendClient.ts';
export { startStandalone, type StandaloneOptions, type StandaloneServer } from './standalone.ts';
