/**
 * tabtoken — one token cache, one refresh poller and one outage fallback for every tab of an app.
 *
 * @example
 * import { createTokenManager } from 'tabtoken';
 * const tokens = createTokenManager();
 * const jwt = await tokens.getToken();
 */
export { createTokenManager } from './createTokenManager.ts';
export { cacheKey } from '../protocol/names.ts';
export type { TokenManager, SignInOptions } from './TokenManager.ts';
export type { TokenManagerEvent, TokenManagerEvents } from './SnapshotMirror.ts';
export {
  TokenError,
  InvalidArgumentError,
  MissingExpiredTokenError,
  OriginUnavailableError,
  TokenInvalidError,
  OriginResponseError,
  ConnectionError,
} from '../protocol/errors.ts';
export type { TokenErrorCode, OriginErrorEntry } from '../protocol/errors.ts';
export type {
  TokenManagerOptions,
  GetTokenOptions,
  Snapshot,
  Claims,
  SnapshotToken,
  Stats,
  Status,
  Mode,
  StorageKind,
  Endpoints,
  VerifyOptions,
  OidcOptions,
  EndpointOptions,
} from '../protocol/types.ts';
