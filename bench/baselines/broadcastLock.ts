/**
 * Baseline "broadcast + lock": every tab keeps its own copy of the token, a new token is shared
 * with the other tabs over a BroadcastChannel, and the refresh is guarded by a Web Lock so one tab
 * refreshes at a time — the pattern of Clerk's and Auth0's browser SDKs (cross-tab lock around the
 * refresh, the result shared with the other tabs). Same leeway as tabtoken (15 s).
 *
 * The guard works only if the broadcast of the new token reaches a waiting tab before the lock does:
 *
 *   tab A  lock ─ mint ────── post(token) ─ release
 *   tab B  wait ─────────────────────────────────── granted ─ fresh? ─ (message from A) ─ …
 *
 * Lock grants and channel messages travel on different paths through the browser, so B may be
 * granted the lock before A's message is delivered; it then finds its own copy stale and mints again.
 * That race is part of the design measured here, so nothing papers over it.
 */
import { mintToken, type CachedToken } from './originApi.ts';
import { LEEWAY_MS } from './perTab.ts';

function isCachedToken(value: unknown): value is CachedToken {
  return (
    typeof value === 'object' &&
    value !== null &&
    'jwt' in value &&
    'expiresAt' in value &&
    typeof value.jwt === 'string' &&
    typeof value.expiresAt === 'number'
  );
}

export class BroadcastLockTokens {
  readonly #sessionId: string;
  readonly #lockName: string;
  readonly #channel: BroadcastChannel;
  #token: CachedToken | null = null;
  #refreshing: Promise<string> | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(sessionId: string, name: string) {
    this.#sessionId = sessionId;
    this.#lockName = `${name}:refresh`;
    this.#channel = new BroadcastChannel(`${name}:tokens`);
    this.#channel.onmessage = (event: MessageEvent) => {
      if (isCachedToken(event.data)) this.#adopt(event.data);
    };
  }

  /** The tab's copy while it is valid; else a refresh (under the lock) and its token. */
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
    this.#channel.close();
  }

  /** Keeps the later-expiring token and schedules this tab's refresh for it. */
  #adopt(token: CachedToken): void {
    if (this.#token && this.#token.expiresAt >= token.expiresAt) return;
    this.#token = token;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#refresh().catch(() => {}), Math.max(0, token.expiresAt - LEEWAY_MS - Date.now()));
  }

  #refresh(): Promise<string> {
    // Concurrent reads of this tab share one refresh; other tabs queue on the lock.
    this.#refreshing ??= this.#refreshUnderLock().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #refreshUnderLock(): Promise<string> {
    return await navigator.locks.request(this.#lockName, async () => {
      // Another tab may have refreshed while this one waited for the lock.
      const current = this.#token;
      if (current && current.expiresAt - Date.now() > LEEWAY_MS) return current.jwt;
      const token = await mintToken(this.#sessionId);
      this.#adopt(token);
      this.#channel.postMessage(token);
      return token.jwt;
    });
  }
}
