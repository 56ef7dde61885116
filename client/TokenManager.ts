/**
 * The public shape of a token manager, apart from the code that makes one (createTokenManager.ts)
 * and the code of its methods off the token path (managerActions.ts), which both use it.
 */
import type { GetTokenOptions, Snapshot, Stats } from '../protocol/types.ts';
import type { TokenManagerEvent, TokenManagerEvents } from './SnapshotMirror.ts';

/** Options of `signIn()`. */
export interface SignInOptions {
  /** The provider's `prompt` (`login`, `consent`, `select_account`, `none`). */
  prompt?: string;
  /** `login_hint`: the user's identifier, when the app knows it. */
  loginHint?: string;
  /** Where `handleRedirect()` says to go afterwards: a path of the app; default the current one. */
  returnTo?: string;
}

/** The object `createTokenManager` returns. */
export interface TokenManager {
  /** Resolves once this tab holds the whole snapshot and the session is known (or known absent). */
  readonly ready: Promise<void>;
  /** A token for the active session; `null` only when signed out. Rejects, never throws. */
  getToken(options?: GetTokenOptions): Promise<string | null>;
  /** The cached token if it is usable now, else `null` (and a mint starts in the background). */
  peekToken(options?: GetTokenOptions): string | null;
  /** The mirrored state; the same object until something changes. */
  getSnapshot(): Snapshot;
  /** Calls `listener` after every snapshot change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  /** Listens to `token`, `signout`, `status` or `error`; returns the unsubscribe function. */
  on<E extends TokenManagerEvent>(event: E, handler: (payload: TokenManagerEvents[E]) => void): () => void;
  /**
   * Makes `sessionId` the active session of every tab, once the origin confirms it is one (else
   * `InvalidArgumentError`, and nothing changes); `null` signs every tab out here only.
   */
  setActiveSession(sessionId: string | null): Promise<void>;
  /**
   * Re-reads the session from the origin now and applies it in every tab: what an app calls right
   * after its own sign-in form succeeded. Resolves once this tab's snapshot shows it.
   */
  sync(): Promise<void>;
  /**
   * Ends the session at the origin and signs every tab out (locally even if the origin fails).
   * OpenID Connect: revokes the refresh token and, with `postLogoutRedirectUri`, sends this tab to
   * the provider's logout.
   */
  signOut(): Promise<void>;
  /** OpenID Connect: sends this tab to the provider's sign-in (authorization code with PKCE). */
  signIn(options?: SignInOptions): Promise<void>;
  /** OpenID Connect: on the redirect page, completes the sign-in for every tab; resolves with where to go. */
  handleRedirect(url?: string | URL): Promise<{ returnTo: string }>;
  /** `fetch` with `Authorization: Bearer <token>` for the page's origin and `fetchOrigins`. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** The engine's counters and this tab's reads. */
  stats(): Promise<Stats>;
  /** Disconnects this tab; the engine forgets it. */
  close(): void;
}
