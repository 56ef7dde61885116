/**
 * The engine's one transition: `reduce(state, action, now)` → the next state, the changes to
 * publish and the effects to run. Pure: it reads no clock (`now` is given), does no I/O, creates
 * no promise and never dispatches; the same inputs always give the same output.
 */
import { MAX_PERSISTED_LIFETIME_S } from '../protocol/constants.ts';
import { cacheKey } from '../protocol/names.ts';
import { isAtLeastAsFresh } from '../protocol/freshness.ts';
import type { EngineChange } from '../protocol/types.ts';
import { activeSessionId, statusOf, type Action, type CacheEntry, type Effect, type EngineState, type Transition } from './engineState.ts';

const DEFAULT_TARGET = { template: null, organizationId: null, expiresInSeconds: null } as const;

/** The default token's key of a session: `${sessionId}|||`. */
export const defaultKeyOf = (sessionId: string): string => cacheKey(sessionId, DEFAULT_TARGET);

const keysOf = (tokens: ReadonlyMap<string, CacheEntry>, sessionId: string): string[] =>
  [...tokens.keys()].filter((key) => key.startsWith(`${sessionId}|`));

const unchanged = (state: EngineState): Transition => ({ state, changes: [], effects: [] });

/**
 * @example
 * const { state, changes, effects } = reduce(initialState('memory', now), { type: 'no-session' }, now);
 * state.status; // 'signed-out'
 */
export function reduce(state: EngineState, action: Action, now: number): Transition {
  // Nothing changes after close; nothing is asked for either.
  if (state.closed) return unchanged(state);
  let version = state.version;
  const changes: EngineChange[] = [];
  const effects: Effect[] = [];
  let tokens = state.tokens;
  let next: EngineState = state;

  const evict = (key: string): void => {
    if (!tokens.has(key)) return;
    const copy = new Map(tokens);
    copy.delete(key);
    tokens = copy;
    changes.push({ type: 'evict', version: ++version, key });
  };
  const put = (key: string, entry: CacheEntry, sessionId: string): void => {
    tokens = new Map(tokens).set(key, entry);
    const change: EngineChange = { type: 'token', version: ++version, key, jwt: entry.jwt, expiresAt: entry.expiresAt, staleAt: entry.staleAt };
    // The default token's payload is the session's claims: it travels with the token.
    if (key === defaultKeyOf(sessionId) && entry.claims) change.claims = entry.claims;
    if (entry.scheme) change.scheme = entry.scheme;
    changes.push(change);
  };
  const offer = (key: string, entry: CacheEntry, sessionId: string): boolean => {
    const current = tokens.get(key);
    // The same token again (an origin that answers with the token it already gave) changes nothing.
    if (current && (current.jwt === entry.jwt || !isAtLeastAsFresh(entry, current))) return false;
    put(key, entry, sessionId);
    return true;
  };
  const persist = (write: Extract<Effect, { type: 'persist' }>['write']): void => {
    effects.push({ type: 'persist', write });
  };

  switch (action.type) {
    case 'restore': {
      // Storage is read once, at start, before any session is known.
      if (state.session.kind !== 'unknown') return unchanged(state);
      const { sessionId, userId } = action;
      for (const [key, entry] of action.entries) if (key.startsWith(`${sessionId}|`)) offer(key, entry, sessionId);
      const lastActive = action.lastActive ? new Map(state.lastActive).set(sessionId, action.lastActive) : state.lastActive;
      next = { ...state, session: { kind: 'active', sessionId, userId, claims: tokens.get(defaultKeyOf(sessionId))?.claims ?? null }, lastActive };
      break;
    }
    case 'token': {
      const sessionId = activeSessionId(state);
      // A mint that lands after a sign-out, a switch or a close carries an older epoch: dropped.
      if (action.epoch !== state.epoch || sessionId === null || !action.key.startsWith(`${sessionId}|`)) return unchanged(state);
      const { key, entry } = action;
      if (!offer(key, entry, sessionId)) return unchanged(state);
      // Tokens that live longer than an hour stay in memory only; an older persisted one for the
      // key must not come back in its place after a reload.
      if (entry.lifetimeS <= MAX_PERSISTED_LIFETIME_S) persist({ op: 'setToken', key, token: { jwt: entry.jwt, expiresAt: entry.expiresAt } });
      else persist({ op: 'deleteToken', key });
      let lastActive = state.lastActive;
      let session = state.session;
      if (key === defaultKeyOf(sessionId)) {
        const last = lastActive.get(sessionId);
        if (!last || isAtLeastAsFresh(entry, last)) {
          lastActive = new Map(lastActive).set(sessionId, entry);
          persist({ op: 'setLastActive', sessionId, jwt: entry.jwt });
        }
        if (session.kind === 'active' && entry.claims) session = { ...session, claims: entry.claims };
      }
      next = { ...state, session, lastActive };
      break;
    }
    case 'evict': {
      evict(action.key);
      persist({ op: 'deleteToken', key: action.key });
      break;
    }
    case 'session': {
      const previous = activeSessionId(state);
      if (previous === action.sessionId) {
        // The origin named the user of the session already active (a re-check of a session taken as given).
        const { session } = state;
        if (session.kind !== 'active' || action.userId === null || session.userId === action.userId) return unchanged(state);
        persist({ op: 'setActiveSession', session: { sessionId: previous, userId: action.userId } });
        next = { ...state, session: { ...session, userId: action.userId } };
        break;
      }
      if (previous !== null) {
        for (const key of keysOf(tokens, previous)) {
          evict(key);
          persist({ op: 'deleteToken', key });
        }
      }
      persist({ op: 'setActiveSession', session: { sessionId: action.sessionId, userId: action.userId } });
      // Callers waiting on the old session asked for "the active session's token": they get the new one.
      effects.push({ type: 'settle', flights: 'not-of-session', sessionId: action.sessionId, outcome: 'redirect' });
      const dismissed = new Set(state.dismissed);
      dismissed.delete(action.sessionId);
      next = { ...state, session: { kind: 'active', sessionId: action.sessionId, userId: action.userId, claims: null }, dismissed, epoch: state.epoch + 1 };
      break;
    }
    case 'signout': {
      const { sessionId } = action;
      if (activeSessionId(state) !== sessionId) return unchanged(state);
      for (const key of keysOf(tokens, sessionId)) evict(key);
      changes.push({ type: 'signout', version: ++version, sessionId });
      const lastActive = new Map(state.lastActive);
      lastActive.delete(sessionId);
      persist({ op: 'clearSession', sessionId });
      persist({ op: 'setActiveSession', session: null });
      // In-flight getToken calls of the session resolve null: signed out is not an error.
      effects.push({ type: 'settle', flights: 'of-session', sessionId, outcome: 'null' });
      const dismissed = action.dismiss ? new Set(state.dismissed).add(sessionId) : state.dismissed;
      next = { ...state, session: { kind: 'signed-out' }, lastActive, dismissed, epoch: state.epoch + 1 };
      break;
    }
    case 'no-session': {
      // A known session is ended only by a sign-out, never by this.
      if (state.session.kind === 'active') return unchanged(state);
      next = { ...state, session: { kind: 'signed-out' } };
      break;
    }
    case 'outage':
      next = { ...state, failing: action.failing };
      break;
    case 'storage':
      next = { ...state, storage: action.storage };
      break;
    case 'close':
      effects.push({ type: 'stop' }, { type: 'settle', flights: 'all', outcome: 'closed' });
      next = { ...state, closed: true, epoch: state.epoch + 1 };
      break;
  }

  // Status, session, user and storage travel together in one `status` change whenever any of them
  // moves; the claims ride along (a new default token carries them otherwise).
  const status = statusOf(next.session, next.failing);
  const since = status !== state.status ? now : state.since;
  const sessionId = activeSessionId(next);
  const userId = next.session.kind === 'active' ? next.session.userId : null;
  const previousUser = state.session.kind === 'active' ? state.session.userId : null;
  if (status !== state.status || sessionId !== activeSessionId(state) || userId !== previousUser || next.storage !== state.storage) {
    const claims = next.session.kind === 'active' ? next.session.claims : null;
    changes.push({ type: 'status', version: ++version, status, since, sessionId, userId, claims, storage: next.storage });
  }
  if (next.session.kind !== 'unknown') effects.push({ type: 'release-session-waiters' });
  return { state: { ...next, tokens, status, since, version }, changes, effects };
}
