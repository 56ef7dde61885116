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
