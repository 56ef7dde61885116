/**
 * The names tabtoken gives to what tabs and workers share: the worker key that names the
 * SharedWorker, its channels, locks and databases; the Web Locks; the cache key of a token.
 */
import { PROTOCOL_VERSION } from './constants.ts';

/**
 * The worker key (SPEC 2, 11): the name of the SharedWorker and the BroadcastChannel of one manager
 * configuration, and the stem of every worker-level lock, the rpc channel and the IndexedDB
 * databases, so that managers of different kinds on one page never collide:
 * `tabtoken:v1:{namespace}:{origin of frontendApi}`, `tabtoken:v1:{namespace}:oidc:{issuer}|{clientId}`,
 * or `tabtoken:v1:{namespace}:endpoint:{tokenUrl href}` (SPEC 13). (`endpoint` may be left out by
 * callers that only ever see an EngineConfig, which always has it.)
 *
 * @example
 * workerKey({ namespace: '', frontendApi: 'https://clerk.example.com', oidc: null, endpoint: null }) // 'tabtoken:v1::https://clerk.example.com'
 * workerKey({ namespace: '', frontendApi: 'https://app.example.com', oidc: null, endpoint: { tokenUrl: 'https://app.example.com/token' } })
 * // 'tabtoken:v1::endpoint:https://app.example.com/token'
 */
export function workerKey(c: {
  namespace: string;
  frontendApi: string;
  oidc: { issuer: string; clientId: string } | null;
  endpoint?: { tokenUrl: string } | null;
}): string {
  const origin = c.endpoint ? `endpoint:${c.endpoint.tokenUrl}` : c.oidc ? `oidc:${c.oidc.issuer}|${c.oidc.clientId}` : new URL(c.frontendApi).origin;
  return `tabtoken:v${PROTOCOL_VERSION}:${c.namespace}:${origin}`;
}

/** Name of the request channel that followers use to reach the leader in local mode. */
export const rpcChannelName = (key: string): string => `${key}:rpc`;

/** Name of the Web Lock that elects the leader in local mode. */
export const leaderLockName = (key: string): string => `${key}:leader`;

/** Name of the Web Lock held around every token-endpoint request of an OpenID Connect grant. */
export const grantLockName = (key: string): string => `${key}:grant`;

/**
 * Name of the Web Lock a SharedWorker holds for its lifetime so its tabs learn when it dies, named
 * after the worker's own name (the worker key, or the name its tabs moved to after a worker died)
 * and its instance; a tab whose hello goes unanswered reads the running worker's name from it.
 */
export const workerLockName = (worker: string, instance: string): string => `${worker}:worker:${instance}`;

/** Name of the Web Lock a tab holds for its lifetime so the worker learns when it closes. */
export function tabLockName(tabId: string): string {
  return `tabtoken:tab:${tabId}`;
}

/**
 * The cache key of one token in `snapshot.tokens`: `${sessionId}|${template}|${organizationId}|${expiresInSeconds}`,
 * an absent part empty. Two reads that differ in any part never share an entry.
 *
 * @example
 * cacheKey('sess_1')                                   // 'sess_1|||'
 * cacheKey('sess_1', { template: 'api', expiresInSeconds: 3600 }) // 'sess_1|api||3600'
 * tokens.getSnapshot().tokens[cacheKey(sessionId)]?.expiresAt
 */
export function cacheKey(sessionId: string, k: { template?: string | null; organizationId?: string | null; expiresInSeconds?: number | null } = {}): string {
  return `${sessionId}|${k.template ?? ''}|${k.organizationId ?? ''}|${k.expiresInSeconds ?? ''}`;
}
