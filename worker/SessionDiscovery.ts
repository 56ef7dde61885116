import { SESSION_ID_PATTERN } from '../protocol/constants.ts';
import { OriginResponseError } from '../protocol/errors.ts';
import type { Minter } from './Minter.ts';

/** What `GET {client}` says about this browser's sessions. */
export interface ClientState {
  /** Ids of the sessions listed with status `active`. */
  readonly sessions: ReadonlySet<string>;
  /** `last_active_session_id`, only when it is one of `sessions` and a well-formed id; else null. */
  readonly lastActiveSessionId: string | null;
  /**
   * When each listed session reaches its `expire_at`, on this machine's clock (ms); absent when the
   * origin gave no usable `expire_at`.
   */
  readonly endsAt: ReadonlyMap<string, number>;
}

/**
 * Reads `GET {client}` (SPEC 5) and validates it defensively: `{ response: null }` means the
 * browser has no client (signed out); anything that is neither that nor the documented shape is
 * an `OriginResponseError` carrying the 2xx status, so a glitching origin is treated like an
 * unreachable one rather than as a sign-out.
 *
 * @example
 * const state = await new SessionDiscovery(minter).read();
 * state.lastActiveSessionId; // 'sess_1' or null
 */
export class SessionDiscovery {
  readonly #minter: Minter;

  constructor(minter: Minter) {
    this.#minter = minter;
  }

  async read(): Promise<ClientState> {
    const { body, skewMs } = await this.#minter.getClient();
    return SessionDiscovery.parse(body, skewMs);
  }

  /** `skewMs`: how far this machine's clock is ahead of the origin's. */
  static parse(body: unknown, skewMs = 0): ClientState {
    if (!isRecord(body) || !('response' in body)) throw malformed('it has no "response" field');
    const response = body.response;
    const endsAt = new Map<string, number>();
    if (response === null) return { sessions: new Set(), lastActiveSessionId: null, endsAt };
    if (!isRecord(response)) throw malformed('"response" is neither null nor an object');
    const list = response.sessions;
    if (!Array.isArray(list)) throw malformed('"response.sessions" is not an array');
    const sessions = new Set<string>();
    for (const s of list) {
      // A session that is ended, expired, revoked or malformed is simply not listed.
      if (!isRecord(s) || typeof s.id !== 'string' || !SESSION_ID_PATTERN.test(s.id) || s.status !== 'active') continue;
      sessions.add(s.id);
      // `expire_at` is in ms on the origin's clock; anything else is ignored (the session then ends
      // when a refresh is refused, as without it).
      if (typeof s.expire_at === 'number' && Number.isFinite(s.expire_at) && s.expire_at > 0) endsAt.set(s.id, s.expire_at + skewMs);
    }
    const last = response.last_active_session_id;
    const lastActiveSessionId = typeof last === 'string' && SESSION_ID_PATTERN.test(last) && sessions.has(last) ? last : null;
    return { sessions, lastActiveSessionId, endsAt };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(why: string): OriginResponseError {
  return new OriginResponseError(200, [], null, `GET client answered a body tabtoken cannot read: ${why}`);
}
