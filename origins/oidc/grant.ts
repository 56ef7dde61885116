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
  /** The grant's DPoP key (non-extractable), or null without DPoP. */
  dpopKey: CryptoKeyPair | null;
  access: GrantAccess | null;
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
  getDiscovery(): Promise<Record<string, unknown> | null>;
  setDiscovery(document: Record<string, unknown>): Promise<void>;
  /** Keeps a new sign-in and forgets those started before `expiredBefore`. */
  putSignIn(request: PendingSignIn, expiredBefore: number): Promise<void>;
  /** The sign-in of `state`, used up: a second call for the same state finds nothing. */
  takeSignIn(state: string): Promise<PendingSignIn | null>;
}
