/**
 * Numbers and names of the wire contract. Everything here is part of the public behaviour
 * (SPEC sections 3–7) and is shared by the worker, the tabs and the development origin.
 */

/** Version of the cross-tab protocol; every BroadcastChannel message carries it as `v`. */
export const PROTOCOL_VERSION = 1;

/** Default poll interval of the refresh poller; also the hard cutoff of the cache. */
export const POLL_INTERVAL_MS = 5000;
/** Smallest and largest accepted `pollIntervalMs`. */
export const MIN_POLL_INTERVAL_MS = 1000;
export const MAX_POLL_INTERVAL_MS = 60_000;

/** Leeway floor: a smaller leeway is raised to this (raise-only). */
export const MIN_LEEWAY_S = 15;

/** A key read within this window is kept fresh by the poller. */
export const READ_WINDOW_MS = 10 * 60_000;

/** Timeout of one HTTP request to the origin. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** How long a getToken with no usable token waits during an outage before `origin_unavailable`. */
export const OUTAGE_WAIT_MS = 10_000;
/** How long a tab waits for the worker to answer its first message. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Every call from a tab to the worker fails after this long. */
export const CALL_TIMEOUT_MS = 15_000;

/** Retry backoff: full jitter over min(cap, first · factor^attempt). */
export const BACKOFF_FIRST_MS = 1000;
export const BACKOFF_FACTOR = 2;
export const BACKOFF_CAP_MS = 30_000;
/** `Retry-After` is honoured up to this long. */
export const RETRY_AFTER_MAX_MS = 5 * 60_000;

/** Only tokens whose lifetime is at most this long are written to IndexedDB. */
export const MAX_PERSISTED_LIFETIME_S = 3600;

/** Largest accepted `expiresInSeconds` (ten years). */
export const MAX_EXPIRES_IN_SECONDS = 315_360_000;

/** Patterns of the identifiers that end up in URLs, storage keys and channel names. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const TEMPLATE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const ORGANIZATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const NAMESPACE_PATTERN = /^[A-Za-z0-9_-]{0,64}$/;

/** Default paths under `frontendApi` (Clerk Frontend API shapes). */
export const DEFAULT_ENDPOINTS = {
  client: '/v1/client',
  token: '/v1/client/sessions/{sid}/tokens',
  templateToken: '/v1/client/sessions/{sid}/tokens/{template}',
  endSession: '/v1/client/sessions/{sid}/end',
} as const;

/**
 * The worker key (SPEC 2, 11): the name of the SharedWorker and the BroadcastChannel of one manager
 * configuration, and the stem of every worker-level lock, the rpc channel and the IndexedDB
 * databases, so that a Clerk and an OpenID Connect manager on one page never collide:
 * `tabtoken:v1:{namespace}:{origin of frontendApi}`, or `tabtoken:v1:{namespace}:oidc:{issuer}|{clientId}`.
 *
 * @example
 * workerKey({ namespace: '', frontendApi: 'https://clerk.example.com', oidc: null }) // 'tabtoken:v1::https://clerk.example.com'
 */
export function workerKey(c: { namespace: string; frontendApi: string; oidc: { issuer: string; clientId: string } | null }): string {
  return `tabtoken:v${PROTOCOL_VERSION}:${c.namespace}:${c.oidc ? `oidc:${c.oidc.issuer}|${c.oidc.clientId}` : new URL(c.frontendApi).origin}`;
}

/** Name of the request channel that followers use to reach the leader in local mode. */
export const rpcChannelName = (key: string): string => `${key}:rpc`;

/** Name of the Web Lock that elects the leader in local mode. */
export const leaderLockName = (key: string): string => `${key}:leader`;

/** Name of the Web Lock held around every token-endpoint request of an OpenID Connect grant. */
export const grantLockName = (key: string): string => `${key}:grant`;

/** Name of the Web Lock a SharedWorker holds for its lifetime so its tabs learn when it dies. */
export const workerLockName = (key: string, instance: string): string => `${key}:worker:${instance}`;

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
export function cacheKey(
  sessionId: string,
  k: { template?: string | null; organizationId?: string | null; expiresInSeconds?: number | null } = {},
): string {
  return `${sessionId}|${k.template ?? ''}|${k.organizationId ?? ''}|${k.expiresInSeconds ?? ''}`;
}

/**
 * A random id of 32 hex digits, for tabs, engine instances and requests. Not `crypto.randomUUID`:
 * it exists only in secure contexts, and an app served over plain http from a LAN address (a
 * phone testing a dev server) is not one; `getRandomValues` works everywhere.
 *
 * @example
 * randomId() // '9f86d081884c7d659a2feaa0c55ad015'
 */
export function randomId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}
