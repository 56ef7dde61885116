/**
 * The engine's one transition: `reduce(state, action, now)` → the next state and the effects the
 * world carries out. Every decision of the engine is made here (and in the pure modules it calls):
 * which mints go out and when, what an answer or a failure means, the backoff, the session, what
 * is stored, what the tabs are told, when the engine must be woken. Pure: it reads no clock (`now`
 * is given), draws no random number (results carry their draw), does no I/O, creates no promise.
 *
 * @example
 * const { state, effects } = reduce(initialState({ storage: 'memory', now, traits, pollIntervalMs: 5000 }), { type: 'start' }, now);
 * effects; // [{ type: 'read-sessions', id: 1 }, …]
 */
import { ConnectionError, InvalidArgumentError, MissingExpiredTokenError } from '../protocol/errors.ts';
import { staleAt } from '../protocol/freshness.ts';
import type { Action, Restored, Transition } from './actions.ts';
import { OPEN, failed, isOpen, unavailableAfter } from './backoff.ts';
import { requestDiscovery } from './discovery.ts';
import { Draft, put } from './Draft.ts';
import { drainParked, expire, flightById, launch, settleFlight, wanted } from './flights.ts';
import { ensureDefaultToken, noteReads, read, refresh, refreshDue, sweep } from './reads.ts';
import { activate, adoptToken, applyAnswer, endSession, noSession, placeToken, subjectOf } from './sessions.ts';
import { defaultKeyOf, type EngineState } from './state.ts';

export function reduce(state: EngineState, action: Action, now: number): Transition {
  // Nothing changes after close; nothing is asked for either.
  if (state.closed) return { state, effects: [] };
  const d = new Draft(state, now);
  switch (action.type) {
    case 'start':
      if (d.s.storage === 'indexeddb') d.effect({ type: 'restore' });
      else requestDiscovery(d);
      break;
    case 'restored':
      restore(d, action.stored);
      break;
    case 'storage-failed':
      // IndexedDB failed: carry on in memory, and say so in the snapshot.
      if (d.s.storage === 'memory') break;
      d.s.storage = 'memory';
      d.report(action.error);
      break;
    case 'read':
      read(d, action.id, action.request, action.deadline);
      break;
    case 'refresh':
      refresh(d, action.request);
      break;
    case 'reads':
      noteReads(d, action.reads);
      break;
    case 'visible':
      visible(d);
      break;
    case 'tabs':
      d.s.tabs = action.count;
      // One poller, running while any tab is connected.
      d.s.nextPollAt = action.count > 0 ? (d.s.nextPollAt ?? now + d.s.pollIntervalMs) : null;
      break;
    case 'time':
      // The timer that rang is spent: whatever is still ahead is armed anew, even at the same moment
      // (a timer may ring a millisecond early on a clock of coarse precision, as Firefox's is).
      d.s.alarmAt = null;
      expire(d);
      if (d.s.nextPollAt !== null && now >= d.s.nextPollAt) {
        d.s.nextPollAt = now + d.s.pollIntervalMs;
        tick(d);
      }
      break;
    case 'minted':
      minted(d, action);
      break;
    case 'mint-failed':
      mintFailed(d, action);
      break;
    case 'sessions':
    case 'sessions-failed':
      looked(d, action);
      break;
    case 'sync':
      d.setCall(action.id, { kind: 'sync' });
      d.effect({ type: 'read-sessions', id: action.id });
      break;
    case 'set-active':
      setActive(d, action.id, action.sessionId);
      break;
    case 'use':
      // A tab's `sessionId` option: taken as given (a reload stays free of requests), re-checked in the background.
      if (d.sessionId === action.sessionId) break;
      activate(d, action.sessionId, null);
      ensureDefaultToken(d);
      break;
    case 'sign-out':
      signOut(d, action.id);
      break;
    case 'done':
      done(d, action);
      break;
    case 'signed-in': {
      // A new grant: its session and its first token in one transition (the one before it goes with its tokens).
      const { sessionId, userId, token, returnTo } = action.result;
      d.s.gate = OPEN;
      activate(d, sessionId, userId);
      adoptToken(d, sessionId, token);
      d.settleAtVersion(action.id, { returnTo });
      break;
    }
    case 'close':
      close(d);
      break;
  }
  // Whatever waited for the backoff gate goes as soon as it is open.
  drainParked(d);
  if (d.s.discovery.owed && isOpen(d.s.gate, now)) {
    d.look({ owed: false });
    requestDiscovery(d);
  }
  return d.finish();
}

/** `ready` resolves: the session is known, or the first look-up failed (the status says which). */
function started(d: Draft): void {
  if (d.s.started) return;
  d.s.started = true;
  d.effect({ type: 'ready' });
}

/**
 * Storage was read at start. A stored session makes `ready` resolve without a request; the origin
 * re-checks it on the first poll tick — not now and not on the hello of a visible tab: a reload
 * with a fresh stored token must reach its first token before any network request (SPEC 10).
 */
function restore(d: Draft, stored: Restored | null): void {
  if (!stored || d.s.session.kind !== 'unknown') return requestDiscovery(d);
  const { sessionId, userId } = stored;
  d.s.tokens = new Map(stored.entries.filter(([key]) => key.startsWith(`${sessionId}|`)));
  if (stored.lastActive) d.s.lastActive = put(d.s.lastActive, sessionId, stored.lastActive);
  d.s.session = { kind: 'active', sessionId, userId, claims: d.s.tokens.get(defaultKeyOf(sessionId))?.claims ?? null };
  // Re-checked at the first tick where a look-up is cheap; the app's own endpoint is not asked (each
  // call rotates its cookie): its next refresh says whether the session still stands.
  d.look({ recheck: d.s.traits.pollSignedOut });
  started(d);
  ensureDefaultToken(d);
}

/** A tab became visible: refresh keys within leeway now; signed out, look the session up. */
function visible(d: Draft): void {
  if (d.s.session.kind === 'active') return refreshDue(d);
  if (d.s.session.kind !== 'signed-out') return;
  // An origin not polled while signed out (the app's own endpoint) is asked at most once per poll
  // interval, counting the look-up at start (a new tab says it is visible as it connects).
  if (!d.s.traits.pollSignedOut && d.now - d.s.discovery.lastAt < d.s.pollIntervalMs) return;
  requestDiscovery(d);
}

/**
 * One poll tick: signed out, a look-up for a sign-in made elsewhere; signed in, the re-check of a
 * restored session or of one past its end (so every tab signs out within a poll interval of the
 * end, not at the next refresh), the refreshes due, and the sweep of expired unread tokens.
 */
function tick(d: Draft): void {
  const { session, discovery } = d.s;
  if (session.kind === 'signed-out' && d.s.traits.pollSignedOut) return requestDiscovery(d);
  if (session.kind !== 'active') return;
  const { endsAt } = discovery;
  const pastEnd = endsAt !== null && endsAt.epoch === d.s.epoch && d.now >= endsAt.at;
  if (discovery.recheck || pastEnd) {
    d.look({ recheck: false, endsAt: pastEnd ? null : endsAt });
    requestDiscovery(d);
  }
  refreshDue(d);
  sweep(d);
}

/**
 * A mint answered. An answer for a flight that is gone (settled by a sign-out or a switch meanwhile)
 * is dropped:
 *
 *   getToken ──mint (flight 7)──────────────────────────▶ 200 { jwt }   dropped: no flight 7
 *            signOut() ─▶ tokens evicted, flight 7 settled null, storage cleared
 *
 * Without that the late token would be cached and published after the sign-out, and a tab would
 * return a token of a session the user just left.
 */
function minted(d: Draft, action: Extract<Action, { type: 'minted' }>): void {
  const flight = flightById(d, action.id);
  if (!flight) return;
  d.s.gate = OPEN;
  const { warning, ...token } = action.token;
  if (warning) d.report(warning);
  const { session } = d.s;
  if (d.s.traits.sessionFromToken && (session.kind !== 'active' || session.userId !== subjectOf(token))) {
    // The app signed in as someone else meanwhile: the token starts a new session; its callers get it.
    settleFlight(d, flight, { value: token.jwt });
    placeToken(d, token, action.freshId);
    return;
  }
  d.offer(flight.key, { ...token, staleAt: staleAt(token.expiresAt) });
  // The callers get the token the cache now holds: the one just minted, unless the cache already had
  // a fresher one (SPEC 4) — and even when it is shorter-lived than the hard cutoff.
  settleFlight(d, flight, { value: d.s.tokens.get(flight.key)?.jwt ?? token.jwt });
}

/**
 * A mint failed: a sign-out, the outage mode's request for the last token (one re-mint with it,
 * behind the gate like any request), an outage (the flight waits for the gate, its callers each
 * until their deadline), or an error for its callers that is never retried.
 */
function mintFailed(d: Draft, action: Extract<Action, { type: 'mint-failed' }>): void {
  const flight = flightById(d, action.id);
  if (!flight) return;
  let { error, kind } = action;
  if (kind === 'signout') return endSession(d, flight.sessionId, false);
  if (kind === 'missing-expired-token') {
    //   POST tokens ─▶ 422 missing_expired_token ─▶ POST tokens?expired_token=<lastActive> ─▶ 200
    const last = d.s.lastActive.get(flight.sessionId);
    if (last && flight.expiredToken === null) {
      launch(d, { ...flight, lastError: error, expiredToken: last.jwt });
      return;
    }
    if (!last) error = new MissingExpiredTokenError('The origin, in outage mode, asked for the last token of the session, and none is known', { cause: error });
    kind = 'error';
  }
  const failedFlight = { ...flight, lastError: error, phase: 'parked' as const, expiredToken: null };
  if (kind === 'outage') {
    d.s.gate = failed(d.s.gate, error, d.now, action.random);
    if (wanted(d, failedFlight)) d.setFlight(flight.key, failedFlight);
    else settleFlight(d, failedFlight, { value: null });
    return;
  }
  // Not retried (SPEC 5): the callers get the error, the previous token stays, and the poller leaves
  // the key alone until someone reads it again.
  d.s.blocked = new Set(d.s.blocked).add(flight.key);
  if (flight.waiters.length === 0) d.report(error);
  settleFlight(d, failedFlight, { error });
}

/** A look-up answered or failed: the discovery in flight, or the call (`sync`, `setActiveSession`) it was made for. */
function looked(d: Draft, action: Extract<Action, { type: 'sessions' | 'sessions-failed' }>): void {
  const look = d.s.discovery.inFlight;
  if (look?.id === action.id) {
    d.look({ inFlight: null });
    started(d);
    // The answer describes the world before a switch or a sign-out made meanwhile; that choice stands:
    //
    //   GET client ──────────────────────────▶ { last_active: A }   dropped: the epoch moved on
    //        setActiveSession(B) ─▶ epoch + 1
    if (look.epoch !== d.s.epoch) return;
    if (action.type === 'sessions') {
      d.s.gate = OPEN;
      return applyAnswer(d, action.answer, false, action.freshId);
    }
    if (action.kind === 'outage') {
      d.s.gate = failed(d.s.gate, action.error, d.now, action.random);
      d.look({ owed: true });
      return;
    }
    // The origin will not give us a client: signed out, unless a session is known (a failed
    // re-check does not end it).
    d.report(action.error);
    return noSession(d);
  }
  const call = d.s.calls.get(action.id);
  if (call?.kind !== 'sync' && call?.kind !== 'confirm') return;
  d.setCall(action.id, null);
  if (action.type === 'sessions-failed') {
    // A failure changes nothing: not the session, not the status, not the backoff.
    return d.settle(action.id, { error: action.kind === 'outage' ? unavailableAfter(action.error, 'the sessions could not be read') : action.error });
  }
  const { answer } = action;
  if (call.kind === 'confirm' && ('token' in answer || !answer.sessions.has(call.sessionId))) {
    return d.settle(action.id, { error: new InvalidArgumentError(`setActiveSession: ${call.sessionId} is not a session of this browser at the origin`) });
  }
  d.s.gate = OPEN;
  if (call.kind === 'sync') {
    // `tokens.sync()`: the answer is adopted as it is — its last active session, even one signed out here.
    applyAnswer(d, answer, true, action.freshId);
  } else if (!('token' in answer)) {
    activate(d, call.sessionId, answer.users.get(call.sessionId) ?? null);
    ensureDefaultToken(d);
  }
  d.settleAtVersion(action.id);
}

/** `setActiveSession`: null signs every tab out here (the origin not told); an id is checked against a look-up first. */
function setActive(d: Draft, id: number, sessionId: string | null): void {
  if (sessionId !== null) {
    if (!d.s.traits.switchable)
      return d.settle(id, {
        error: new InvalidArgumentError('setActiveSession: this manager has one session, its own; only null (sign out here) is accepted'),
      });
    // An id the origin does not list is refused before anything changes (SPEC 2).
    d.setCall(id, { kind: 'confirm', sessionId });
    return d.effect({ type: 'read-sessions', id });
  }
  const current = d.sessionId;
  if (current === null) {
    noSession(d);
    return d.settleAtVersion(id);
  }
  // Signed out here, without telling the origin: the session stays alive there, so a look-up must
  // not pick it up again on the next poll; an origin that holds a grant drops it.
  endSession(d, current, true);
  d.setCall(id, { kind: 'forget', version: 0 });
  d.stampVersion(id);
  d.effect({ type: 'forget', id, sessionId: current });
}

/** A request made for a call finished: the steps of `signOut`, and of `setActiveSession(null)`. */
function done(d: Draft, { id, value, error }: Extract<Action, { type: 'done' }>): void {
  const call = d.s.calls.get(id);
  if (call?.kind !== 'signOut' && call?.kind !== 'forget') return;
  if (call.kind === 'forget') {
    d.setCall(id, null);
    return d.settle(id, error ? { error } : { value: call.version });
  }
  // Failures of a sign-out go to the `error` event: the session ends here whatever the origin says.
  if (error) d.report(error);
  if (call.version === null) {
    // Where the tab goes next is known. Locally first: from now on no API returns the session's
    // tokens, whatever the origin says; then the origin is told.
    endSession(d, call.sessionId, true);
    d.setCall(id, { ...call, redirect: typeof value === 'string' ? value : null });
    d.stampVersion(id);
    return d.effect({ type: 'end-session', id, sessionId: call.sessionId });
  }
  d.setCall(id, null);
  d.settle(id, { value: { version: call.version, redirect: call.redirect } });
}

/** `signOut`: where the tab goes next is read while the session still exists (an end-session URL carries its ID token). */
function signOut(d: Draft, id: number): void {
  const sessionId = d.sessionId;
  if (sessionId === null) return d.settleAtVersion(id, { redirect: null });
  d.setCall(id, { kind: 'signOut', sessionId, version: null, redirect: null });
  d.effect({ type: 'read-redirect', id, sessionId });
}

/** The engine closed: every waiting caller fails, requests are aborted, nothing happens after. */
function close(d: Draft): void {
  const closed = new ConnectionError('The token engine was closed');
  for (const id of [...d.s.waiting.keys(), ...d.s.calls.keys()]) d.settle(id, { error: closed });
  d.s.waiting = new Map();
  d.s.calls = new Map();
  d.s.flights = new Map();
  d.look({ inFlight: null, owed: false, waiters: [] });
  d.s.nextPollAt = null;
  d.s.closed = true;
  d.s.epoch++;
  started(d);
  d.effect({ type: 'stop' });
}
