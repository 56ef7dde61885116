/**
 * The seam between the engine and the protocol of a token origin. The engine decides *when* to
 * discover the session, mint a key or end the session, and what a failure means for every tab; a
 * `TokenOrigin` knows *how* to ask its origin and how to read the answers. The Clerk Frontend API
 * (ClerkOrigin.ts) is one implementation; OpenID Connect (SPEC 11) is another, where:
 * - `readSessions` reads the stored grant (no network: the grant is the session);
 * - `mint` is the refresh grant at the token endpoint (under the grant lock, rotating the refresh
 *   token before the new access token is published);
 * - `endSession` revokes the refresh token;
 * - sign-in by redirect creates and completes a grant (`signIn`, `completeSignIn`).
 */
import type { FreshnessStamp } from '../protocol/freshness.ts';
import type { Claims, ProofRequest, SignInRequest } from '../protocol/types.ts';

/** What the engine knows of its origin's ways as data. */
export interface OriginTraits {
  /** One token per session: `template`, `organizationId`, `expiresInSeconds` are refused. */
  readonly oneToken: boolean;
  /** Signed out, the poller looks the session up every tick (false: only on `sync()` and a visible tab). */
  readonly pollSignedOut: boolean;
  /** `setActiveSession(id)` can switch to another session of the origin's list. */
  readonly switchable: boolean;
  /** A token whose `sub` differs from the session's user starts a new session (the app's own endpoint). */
  readonly sessionFromToken: boolean;
}

/** What identifies a token at the origin (the non-session parts of a cache key). */
export interface MintTarget {
  template: string | null;
  organizationId: string | null;
  expiresInSeconds: number | null;
}

/** A validated token, placed on this machine's clock. */
export interface MintedToken extends FreshnessStamp {
  jwt: string;
  /** Local time (ms) the token expires: measured from its arrival, never from `exp` against the local clock (SPEC 3). */
  expiresAt: number;
  /** The token's whole lifetime in seconds: decides whether it may be persisted. */
  lifetimeS: number;
  /** The token's payload (null for an opaque token); the default token's is the session's claims. */
  claims: Claims | null;
  /** Present only for a DPoP-bound token. */
  scheme?: 'DPoP';
  /** A failure of this answer that no caller receives (a refreshed ID token dropped): for the `error` event. */
  warning?: unknown;
}

/** What a stored token says about itself, read back without network. */
export type TokenFacts = Pick<MintedToken, 'oiat' | 'iat' | 'lifetimeS' | 'claims' | 'scheme'>;

/** A sign-in completed (OpenID Connect): a new grant, its session and its first token. */
export interface SignInResult {
  sessionId: string;
  userId: string;
  token: MintedToken;
  returnTo: string;
}

/** What the origin says about this browser's sessions. */
export interface OriginSessions {
  /** Ids of the sessions that are active. */
  readonly sessions: ReadonlySet<string>;
  /** The session to use: one of `sessions`, or null. */
  readonly lastActiveSessionId: string | null;
  /** When each listed session ends, on this machine's clock (ms), where the origin says. */
  readonly endsAt: ReadonlyMap<string, number>;
  /** Each listed session's user, where the origin says. */
  readonly users: ReadonlyMap<string, string>;
}

/**
 * What a look-up answers: the sessions the origin lists (Clerk, and an OpenID Connect grant), or —
 * for an origin whose session is a cookie of the app's own server — a token (signed in) or none
 * (signed out).
 */
export type SessionsAnswer = OriginSessions | { readonly token: MintedToken | null };

/** What a failed request means for the engine. */
export type FailureKind =
  /** The session is gone (Clerk: 401, or 404 `session_not_found`). */
  | 'signout'
  /** The origin is in outage mode and wants the last token (Clerk: 422 `missing_expired_token`). */
  | 'missing-expired-token'
  /** Unreachable: network error, timeout, 5xx, 429, or an unreadable 2xx: retry with backoff. */
  | 'outage'
  /** Anything else (another 4xx, an invalid token): reported, never retried. */
  | 'error';

/** Request counters, reported through `stats()`. */
export interface OriginCounters {
  /** 2xx answers of the token routes. */
  mints: number;
  mint: number;
  client: number;
  end: number;
  /** Requests that got no 2xx: network error, timeout, or an HTTP error status. */
  failed: number;
}

/**
 * @example
 * const origin: TokenOrigin = new ClerkOrigin(config, { clock, fetch });
 * const { lastActiveSessionId } = await origin.readSessions();
 */
export interface TokenOrigin {
  /** Settles once the origin can be used (its code loaded, its stored grant read); a rejection rejects the engine's `ready`. */
  readonly ready?: Promise<void>;
  /** How this origin differs from the Clerk Frontend API's ways (every trait false but polling while signed out). */
  readonly traits?: Partial<OriginTraits>;
  /** Which sessions exist now. Rejects with the error classes of protocol/errors.ts. */
  readSessions(): Promise<SessionsAnswer>;
  /** Mints one token; `expiredToken` is the last token, sent when the origin asked for it (outage mode). */
  mint(sessionId: string, target: MintTarget, expiredToken: string | null): Promise<MintedToken>;
  /** Ends the session at the origin. */
  endSession(sessionId: string): Promise<void>;
  classify(error: unknown): FailureKind;
  /** A stored token of `sessionId` read back without network; null when it is not one. */
  inspect(jwt: string, sessionId: string): TokenFacts | null;
  counters(): OriginCounters;
  /**
   * The engine is closing: stops what is in flight — except a request whose answer may carry a rotated
   * credential (a refresh token, a refresh cookie), which runs on so the credential is not lost.
   */
  abortAll(): void;
  /** Where the tab that signs out goes next (an end-session endpoint), read before the session ends. */
  signOutRedirect?(sessionId: string): Promise<string | null>;
  /** A new sign-in by redirect: the URL of the provider's authorization endpoint. */
  beginSignIn?(request: SignInRequest): Promise<string>;
  /** Redeems the provider's answer; a failure changes nothing. */
  completeSignIn?(url: string): Promise<SignInResult>;
  /** A DPoP proof for one request of `tokens.fetch` made with the session's access token. */
  proof?(sessionId: string, request: ProofRequest): Promise<string>;
  /** The session dropped here without telling the origin (`setActiveSession(null)`): what it holds of it goes. */
  forget?(sessionId: string): Promise<void>;
}
