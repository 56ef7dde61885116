/**
 * What the app session routes remember (SPEC section 13's shape: an app server keeping the sign-in
 * in a rotating refresh cookie): token families, the refresh cookies each handed out, the reuse
 * interval in force and the counters of `stats.app`. The routes are in `appSessionRoutes.ts`.
 *
 * A login starts a family. A family has exactly one live refresh cookie at a time; every cookie it
 * handed out before is remembered as rotated away, with when, so that presenting one again is
 * recognised as reuse rather than as an unknown cookie:
 *
 *   login ──▶ c1 ──token──▶ c2 ──token──▶ c3            c3 live; c1, c2 rotated away
 *   c1 again, later than the reuse interval after its rotation ──▶ the family is revoked
 *   c1 again, within it ──▶ a new access token, and c3 again (the family's live cookie)
 *
 * Why the grace answer hands out the live cookie instead of rotating once more: the grace period
 * exists for two calls with one cookie racing (two tabs, or a retried call whose first answer was
 * lost). The browser keeps whichever Set-Cookie it receives last; when both answers carry the same
 * live cookie, the browser ends up with it whatever the order. A second rotation would retire the
 * cookie the first answer carried, and a browser that stored that answer last would be signed out
 * at its next call.
 */
import { randomId, randomSecret } from './ids.ts';

/** Default and bounds of `refreshReuseIntervalSeconds` (`POST /__origin/config`). */
export const DEFAULT_REFRESH_REUSE_INTERVAL_S = 0;
export const MAX_REFRESH_REUSE_INTERVAL_S = 300;

/** One login's chain of refresh cookies. Its id is the `sid` of its access tokens. */
export interface TokenFamily {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: number;
  /** `revoked` by a logout or a detected reuse; a revoked family never comes back. */
  status: 'live' | 'revoked';
}

/** What presenting a refresh cookie at `POST /app/session/token` comes to. */
export type RefreshOutcome =
  /** No cookie, or one this origin never handed out. */
  | { kind: 'unknown' }
  /** A cookie of a revoked family. */
  | { kind: 'ended'; family: TokenFamily }
  /** A cookie rotated away longer ago than the reuse interval: the family has just been revoked. */
  | { kind: 'reused'; family: TokenFamily }
  /** The live cookie: `cookie` is its successor, now the live one. */
  | { kind: 'rotated'; family: TokenFamily; cookie: string }
  /** A cookie rotated away within the reuse interval: `cookie` is the family's live one. */
  | { kind: 'grace'; family: TokenFamily; cookie: string };

/** `stats.app` of `GET /__origin/stats`. */
export interface AppStats {
  /** 2xx answers of `POST /app/session/token`. */
  tokens: number;
  /** Refresh cookies presented after they were rotated away, past the reuse interval. */
  reuses: number;
  /** Families started (logins). */
  families: number;
  /** Families revoked, by a logout or a reuse. */
  revoked: number;
}

interface RefreshCookie {
  readonly familyId: string;
  /** When it was rotated away (origin clock, ms); null while it is its family's live cookie. */
  rotatedAt: number | null;
}

/**
 * The app sessions' memory. Every method is synchronous, so one presentation of a cookie is
 * decided and recorded in one step: two calls racing with one cookie cannot both rotate it.
 *
 * @example
 * const app = new AppSessions(Date.now);
 * const { cookie } = app.login('alice');
 * const next = app.refresh(cookie); // { kind: 'rotated', family, cookie: '…' }
 * app.refresh(cookie);              // { kind: 'reused', family } — the family is revoked
 */
export class AppSessions {
  readonly #now: () => number;
  readonly #families = new Map<string, TokenFamily>();
  readonly #cookies = new Map<string, RefreshCookie>();
  /** Each family's live cookie value. */
  readonly #live = new Map<string, string>();
  #reuseIntervalOverride: number | null = null;
  #stats: AppStats = zeroStats();

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Starts a family for the user; returns it and its first refresh cookie. */
  login(userId: string): { family: TokenFamily; cookie: string } {
    const family: TokenFamily = { id: randomId('fam'), userId, createdAt: this.#now(), status: 'live' };
    this.#families.set(family.id, family);
    this.#stats.families += 1;
    return { family, cookie: this.#issue(family) };
  }

  /**
   * Presents a refresh cookie: rotates the live one, answers a rotated one within the reuse
   * interval, and revokes the family for a rotated one past it. The interval runs from the
   * cookie's own rotation, on the origin's clock: `[rotatedAt, rotatedAt + interval)`.
   */
  refresh(value: string | null): RefreshOutcome {
    const cookie = value === null ? undefined : this.#cookies.get(value);
    const family = cookie && this.#families.get(cookie.familyId);
    if (!cookie || !family) return { kind: 'unknown' };
    if (family.status === 'revoked') return { kind: 'ended', family };
    const now = this.#now();
    if (cookie.rotatedAt === null) {
      cookie.rotatedAt = now;
      return { kind: 'rotated', family, cookie: this.#issue(family) };
    }
    const sinceRotation = now - cookie.rotatedAt;
    const live = this.#live.get(family.id);
    if (sinceRotation >= 0 && sinceRotation < this.refreshReuseIntervalSeconds * 1000 && live !== undefined) {
      return { kind: 'grace', family, cookie: live };
    }
    this.#stats.reuses += 1;
    this.#revoke(family);
    return { kind: 'reused', family };
  }

  /** Revokes the family of any cookie it handed out (live or rotated away); returns it, or null for an unknown cookie. */
  logout(value: string | null): TokenFamily | null {
    const cookie = value === null ? undefined : this.#cookies.get(value);
    const family = cookie ? this.#families.get(cookie.familyId) : undefined;
    if (!family) return null;
    this.#revoke(family);
    return family;
  }

  /** The family with this id (the `sid` of its access tokens), or null. */
  family(id: string): TokenFamily | null {
    return this.#families.get(id) ?? null;
  }

  /** Counts one 2xx answer of `POST /app/session/token`. */
  countToken(): void {
    this.#stats.tokens += 1;
  }

  /** How long after its rotation a refresh cookie is still answered, s (`POST /__origin/config`, until the next reset). */
  get refreshReuseIntervalSeconds(): number {
    return this.#reuseIntervalOverride ?? DEFAULT_REFRESH_REUSE_INTERVAL_S;
  }

  set refreshReuseIntervalSeconds(seconds: number) {
    this.#reuseIntervalOverride = seconds;
  }

  /** A copy of the counters. */
  stats(): AppStats {
    return { ...this.#stats };
  }

  /**
   * Clears the counters and the reuse interval override. Families and their cookies stay, as the
   * frontend API's sessions do, so a test's login survives another test's reset.
   */
  reset(): void {
    this.#stats = zeroStats();
    this.#reuseIntervalOverride = null;
  }

  /** Hands out a new live cookie of the family; the previous one must already be rotated away. */
  #issue(family: TokenFamily): string {
    const value = randomSecret();
    this.#cookies.set(value, { familyId: family.id, rotatedAt: null });
    this.#live.set(family.id, value);
    return value;
  }

  #revoke(family: TokenFamily): void {
    if (family.status === 'revoked') return;
    family.status = 'revoked';
    this.#live.delete(family.id);
    this.#stats.revoked += 1;
  }
}

function zeroStats(): AppStats {
  return { tokens: 0, reuses: 0, families: 0, revoked: 0 };
}
