/**
 * The session (SPEC 2, 5, 13): which one is active, switching to another, its end, and what a
 * look-up's answer means — each outcome in one transition, so no tab ever sees a signed-out moment
 * between two sessions.
 */
import { OUTAGE_WAIT_MS } from '../protocol/constants.ts';
import { staleAt } from '../protocol/freshness.ts';
import { put, type Draft } from './Draft.ts';
import { settleFlight } from './flights.ts';
import { ensureDefaultToken, read } from './reads.ts';
import { defaultKeyOf } from './state.ts';
import type { MintedToken, SessionsAnswer } from './TokenOrigin.ts';

/** Callers waiting for the session to be known go on: the session is known (active or signed out). */
function releaseWaiters(d: Draft): void {
  const { waiters } = d.s.discovery;
  if (waiters.length === 0) return;
  d.look({ waiters: [] });
  for (const id of waiters) {
    const waiter = d.s.waiting.get(id);
    if (!waiter) continue;
    d.setWaiter(id, null);
    read(d, id, waiter.request, waiter.deadline);
  }
}

/**
 * Makes `sessionId` the active session. For the session already active it only names its user
 * (when `userId` is given). A switch drops the old session's tokens everywhere, and the callers
 * waiting on its mints asked for "the active session's token": they are served the new one's.
 */
export function activate(d: Draft, sessionId: string, userId: string | null): void {
  const { session } = d.s;
  if (session.kind === 'active' && session.sessionId === sessionId) {
    if (userId !== null && session.userId !== userId) d.s.session = { ...session, userId };
    return;
  }
  d.s.tokens = new Map();
  const dismissed = new Set(d.s.dismissed);
  dismissed.delete(sessionId);
  d.s.dismissed = dismissed;
  d.s.session = { kind: 'active', sessionId, userId, claims: null };
  d.s.epoch++;
  const deadline = d.now + OUTAGE_WAIT_MS;
  for (const flight of d.s.flights.values()) {
    if (flight.sessionId === sessionId) continue;
    settleFlight(d, flight, (id, waiter) => read(d, id, waiter.request, deadline));
  }
  releaseWaiters(d);
}

/**
 * The session is gone: its tokens are dropped everywhere (storage too), its callers get null
 * (signed out is not an error). `dismiss`: signed out here, so a look-up must not pick it again.
 */
export function endSession(d: Draft, sessionId: string, dismiss: boolean): void {
  if (d.sessionId !== sessionId) return;
  d.s.tokens = new Map();
  d.s.lastActive = put(d.s.lastActive, sessionId, null);
  for (const flight of d.s.flights.values()) if (flight.sessionId === sessionId) settleFlight(d, flight, { value: null });
  if (dismiss) d.s.dismissed = new Set(d.s.dismissed).add(sessionId);
  d.s.session = { kind: 'signed-out' };
  d.s.epoch++;
  releaseWaiters(d);
}

/** The origin said nobody is signed in (a known session is ended only by `endSession`). */
export function noSession(d: Draft): void {
  if (d.s.session.kind === 'active') return;
  d.s.session = { kind: 'signed-out' };
  releaseWaiters(d);
}

/** A session that is gone at the origin while another takes its place: its lastActiveToken goes too. */
function forgetEnded(d: Draft, sessionId: string): void {
  d.s.lastActive = put(d.s.lastActive, sessionId, null);
}

/** Puts `token` as the default token of `sessionId`, now the active session. */
export function adoptToken(d: Draft, sessionId: string, token: MintedToken): void {
  d.offer(defaultKeyOf(sessionId), { ...token, staleAt: staleAt(token.expiresAt) });
}

/** The user a token names (its JWT `sub`), or null for an opaque token. */
export const subjectOf = (token: MintedToken): string | null => (typeof token.claims?.sub === 'string' ? token.claims.sub : null);

/**
 * A token that arrived for the app's own endpoint (SPEC 13): it belongs to the active session when
 * it names the same user; otherwise (signed out, or the app signed in as someone else) it starts a
 * new session, named `freshId`. Returns the session it landed in.
 */
export function placeToken(d: Draft, token: MintedToken, freshId: string): string {
  const user = subjectOf(token);
  let sessionId = d.sessionId;
  if (sessionId === null || d.s.session.kind !== 'active' || d.s.session.userId !== user) {
    if (sessionId !== null) forgetEnded(d, sessionId);
    sessionId = freshId;
    activate(d, sessionId, user);
  }
  adoptToken(d, sessionId, token);
  return sessionId;
}

/**
 * Applies what the origin said about the sessions. A look-up keeps a listed session, and picks the
 * last active one only when none is — never one signed out here; `sync` (`adopt`) takes the last
 * active one whatever this engine thought of it (SPEC 2). A token answer (SPEC 13) is placed as
 * `placeToken` says; none means signed out.
 */
export function applyAnswer(d: Draft, answer: SessionsAnswer, adopt: boolean, freshId: string): void {
  const current = d.sessionId;
  if ('token' in answer) {
    if (answer.token) placeToken(d, answer.token, freshId);
    else if (current !== null) endSession(d, current, false);
    else noSession(d);
    return ensureDefaultToken(d);
  }
  const pick = answer.lastActiveSessionId;
  const listed = current !== null && answer.sessions.has(current);
  if (listed && (!adopt || pick === null || pick === current)) {
    activate(d, current, answer.users.get(current) ?? null);
    return noteEnd(d, answer.endsAt.get(current));
  }
  if (pick !== null && (adopt || !d.s.dismissed.has(pick))) {
    if (current !== null && !listed) forgetEnded(d, current);
    activate(d, pick, answer.users.get(pick) ?? null);
    noteEnd(d, answer.endsAt.get(pick));
    return ensureDefaultToken(d);
  }
  if (current !== null && !listed) endSession(d, current, false);
  else noSession(d);
}

/**
 * The end of the active session, when it is still ahead: an origin that keeps listing a session
 * past its `expire_at` (one that extends sessions on activity) is not asked again every tick.
 */
function noteEnd(d: Draft, at: number | undefined): void {
  d.look({ endsAt: at !== undefined && at > d.now ? { epoch: d.s.epoch, at } : null });
}
