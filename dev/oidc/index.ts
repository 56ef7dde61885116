/**
 * The OpenID provider side of tabtoken's tests, benchmark and demo (Node only, never shipped:
 * neither origin/testing.ts nor origin/cli.ts imports this folder).
 */
export { startOidcProvider, type OidcProviderOptions, type RunningOidcProvider, type RotationPolicy } from './startOidcProvider.ts';
export { startProxy, type Proxy, type ProxyDownMode, type ProxyTarget } from './startProxy.ts';
export { faultLayer, type Fault, type FaultRule, type ProviderFaults } from './faultLayer.ts';
export {
  ProviderEventLog,
  type ProviderEvent,
  type GrantRecord,
  type CodeEvent,
  type RefreshEvent,
  type TokenErrorEvent,
  type GrantRevokedEvent,
} from './ProviderEventLog.ts';
export { ProviderStore, type StoredRefreshToken } from './ProviderStore.ts';
export {
  startDpopResourceServer,
  type DpopResourceServer,
  type DpopResourceServerOptions,
  type Introspection,
  type ResourceRequest,
} from './DpopResourceServer.ts';
export { createDpopKey, accessTokenHash, htuOf, type DpopKey, type DpopProofClaims } from './dpopKey.ts';
export {
  authorizationRequest,
  CookieJar,
  discover,
  redeemAuthorizationAnswer,
  refreshGrant,
  signInWithCodeFlow,
  tokenRequest,
  type AuthorizationRequest,
  type CodeFlowOptions,
  type CodeFlowResult,
  type ProviderMetadata,
  type TokenAnswer,
} from './nodeClient.ts';
export { completeDevLogin, type DevLoginOptions } from './completeDevLogin.ts';
export { oidcProviderPlugin, type DemoOidcConfig, type OidcProviderPlugin, type OidcProviderPluginOptions } from './oidcProviderPlugin.ts';
