/**
 * Baseline "per tab": every tab keeps its own token and its own refresh timer, the design of
 * oidc-client-ts (an `accessTokenExpiring` timer per UserManager) and of Firebase Auth (a refresh
 * timer per app instance). Written to be a fair, ordinary implementation: one mint in flight per
 * tab, a proactive refresh 15 s before expiry (tabtoken's default leeway), and reads answered from
 * the tab's cache without a request while the token is valid.
 */
import { mintToken, type CachedToken } from './originApi.ts';

/** Refresh this long before expiry: the same leeway tabtoken uses by default. */
export const LEEWAY_MS = 15_000;

export class PerTabTokens {
  readonly #sessionId: string;
  #token: CachedToken | null = null;
  #minting: Promise<string> | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(sessionId: string) {
    this.#sessionId = sessionId;
  }

  /** The cached token while it is valid (a refresh is already scheduled); else waits for a mint. */
  getToken = (): Promise<string> => {
    const token = this.#token;
    if (token && token.expiresAt > Date.now()) return Promise.resolve(token.jwt);
    return this.#refresh();
  };

  peekToken = (): string | null => {
    const token = this.#token;
    return token && token.expiresAt > Date.now() ? token.jwt : null;
  };

  close(): void {
    clearTimeout(this.#timer);
  }

  #refresh(): Promise<string> {
    // Concurrent reads of this tab share one request; other tabs know nothing of it.
    this.#minting ??= mintToken(this.#sessionId)
      .then((token) => {
        this.#token = token;
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => void this.#refresh().catch(() => {}), Math.max(0, token.expiresAt - LEEWAY_MS - Date.now()));
        return token.jwt;
      })
      .finally(() => {
        this.#minting = null;
      });
    return this.#minting;
  }
}
