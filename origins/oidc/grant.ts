/**
 * What an OpenID Connect grant is, and what the adapter needs of the place it is kept (the worker
 * gives it storage/GrantStore.ts: IndexedDB through idb-keyval): the adapter knows the shapes, the
 * store only keeps them.
 */
import type { Claims } from '../../protocol/types.ts';

/** The access token the grant last got, as the engine caches it. */
export interface GrantAccess {
  token: string;
  expiresAt: number;
  /** Local seconds it arrived: its freshness stamp. */
  iat: number;
  lifetimeS: number;
  scheme?: 'DPoP';
}

/**
 * One OpenID Connect grant: the only holder of the refresh token (SPEC 11). Never in a snapshot, a
 * message or a reply: only here and in the worker's memory.
 */
export interface Grant {
  /** A random id made for the grant: the cache key's session part. */
  sessionId: string;
  sub: string;
  /** null: the provider issued none (no `offline_access` consent); the access token is served until it expires. */
  refreshToken: string | null;
  /** The raw ID token, for `id_token_hint` at logout. */
  idToken: string;
  claims: Claims;
  /**
   * The grant's DPoP key (non-extractable), or null without DPoP. Kept whatever `token_type` an
   * answer names: with `Bearer` the refresh token is still bound to it (RFC 9449 section 5).
   */
  dpopKey: CryptoKeyPair | null;
  access: GrantAccess | null;
  /**
   * A refreshed ID token that could not be checked when it arrived (the JWKS did not answer): the
   * claims stay those of `idToken` until it is checked, at the next refresh. Absent in grants
   * stored before it existed.
   */
  pendingIdToken?: PendingIdToken | null;
}

/** A refreshed ID token waiting for its check, and when it arrived on the provider's clock (ms). */
export interface PendingIdToken {
  token: string;
  /** Its times are judged as of its arrival: checked later, it must not fail for having aged. */
  arrivedAtMs: number;
}

/** The provider's discovery document as it was fetched and checked, and when (local ms). */
export interface StoredDiscovery {
  document: Record<string, unknown>;
  fetchedAt: number;
}

/** A sign-in started and not yet completed, keyed by its `state`. */
export interface PendingSignIn {
  state: string;
  verifier: string;
  nonce: string;
  returnTo: string;
  createdAt: number;
}

/** Where the grant, the discovery document and the pending sign-ins are kept. */
export interface GrantKeeper {
  getGrant(): Promise<Grant | null>;
  setGrant(grant: Grant): Promise<void>;
  deleteGrant(): Promise<void>;
  getDiscovery(): Promise<StoredDiscovery | null>;
  setDiscovery(discovery: StoredDiscovery): Promise<void>;
  /** The document goes with the grant (sign-out, `invalid_grant`, forget). */
  deleteDiscovery(): Promise<void>;
  /** Keeps a new sign-in and forgets those started before `expiredBefore`. */
  putSignIn(request: PendingSignIn, expiredBefore: number): Promise<void>;
  /**
   * The sign-in of `state`, used up in one step (one IndexedDB transaction): of two concurrent calls
   * for the same state exactly one gets it, the other finds nothing.
   */
  takeSignIn(state: string): Promise<PendingSignIn | null>;
}
