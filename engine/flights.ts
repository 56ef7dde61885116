/**
 * Mints in flight (SPEC 4, 5): one per cache key, shared by every caller that needs the key — a
 * background refresh, a `skipCache` read, any number of waiting `getToken` calls from any number of
 * tabs. A flight is sent at once, or parked behind the backoff gate until it opens (the poller
 * never bypasses the backoff); it ends when its answer settles its callers.
 */
import { REQUEST_TIMEOUT_MS } from '../protocol/constants.ts';
import type { TokenRequest } from '../protocol/types.ts';
import type { Outcome } from './actions.ts';
import { isOpen, unavailableAfter } from './backoff.ts';
import type { Draft } from './Draft.ts';
import { inWindow, worthRetrying } from './refreshPlan.ts';
import { defaultKeyOf, type Flight, type Waiter } from './state.ts';

/** The flight of `key`, started if there is none. */
export function ensureFlight(d: Draft, key: string, sessionId: string, request: TokenRequest, background: boolean): Flight {
  const existing = d.s.flights.get(key);
  if (existing) return existing;
  const { template, organizationId, expiresInSeconds } = request;
  const which = background ? 'background' : 'foreground';
  d.s.refreshes = { ...d.s.refreshes, [which]: d.s.refreshes[which] + 1 };
  return launch(d, {
    id: d.id(),
    key,
    sessionId,
    target: { template, organizationId, expiresInSeconds },
    phase: 'parked',
    sentAt: d.now,
    slow: false,
    expiredToken: null,
    waiters: [],
    lastError: null,
  });
}

/** Sends the flight's request now, or parks it until the backoff gate opens. */
export function launch(d: Draft, flight: Flight): Flight {
  const sent = isOpen(d.s.gate, d.now);
  const next: Flight = sent ? { ...flight, phase: 'sent', sentAt: d.now, slow: false } : { ...flight, phase: 'parked' };
  d.setFlight(flight.key, next);
  if (sent) d.effect({ type: 'mint', id: next.id, sessionId: next.sessionId, target: next.target, expiredToken: next.expiredToken });
  return next;
}

/** The flight whose request has id `id`, if it is still the one of its key. */
export function flightById(d: Draft, id: number): Flight | null {
  for (const flight of d.s.flights.values()) if (flight.id === id) return flight;
  return null;
}

/** Ends a flight: every caller riding on it gets `outcome` (or is handed on, when a function). */
export function settleFlight(d: Draft, flight: Flight, outcome: Outcome | ((id: number, waiter: Waiter) => void)): void {
  d.setFlight(flight.key, null);
  for (const id of flight.waiters) {
    const waiter = d.s.waiting.get(id);
    if (!waiter) continue;
    d.setWaiter(id, null);
    if (typeof outcome === 'function') outcome(id, waiter);
    else d.settle(id, outcome);
  }
}

/** Whether a mint that failed with an outage is still worth retrying in the background. */
export function wanted(d: Draft, flight: Flight): boolean {
  const sessionId = d.sessionId;
  const read = d.s.reads.get(flight.key);
  return worthRetrying({
    waiters: flight.waiters.length,
    isDefault: sessionId !== null && flight.key === defaultKeyOf(sessionId),
    cached: d.s.tokens.has(flight.key),
    read: inWindow(read, d.now),
  });
}

/** The gate is open: every parked flight that is still wanted goes now; the others are dropped. */
export function drainParked(d: Draft): void {
  if (!isOpen(d.s.gate, d.now)) return;
  for (const flight of d.s.flights.values()) {
    if (flight.phase !== 'parked') continue;
    if (wanted(d, flight)) launch(d, flight);
    else settleFlight(d, flight, { value: null });
  }
}

/**
 * What time does to flights: a waiting caller whose deadline passed gets `OriginUnavailableError`
 * (the flight goes on for everyone else: a caller never gets null for an outage), and a request
 * past the caller timeout marks the origin as failing until it answers.
 */
export function expire(d: Draft): void {
  for (const [id, waiter] of d.s.waiting) {
    if (waiter.deadline > d.now) continue;
    d.setWaiter(id, null);
    const flight = waiter.flight === null ? null : d.s.flights.get(waiter.flight);
    if (flight) d.setFlight(flight.key, { ...flight, waiters: flight.waiters.filter((w) => w !== id) });
    else d.look({ waiters: d.s.discovery.waiters.filter((w) => w !== id) });
    d.settle(id, { error: unavailableAfter(flight ? flight.lastError : d.s.gate.lastError, waiter.why) });
  }
  for (const flight of d.s.flights.values()) {
    if (flight.phase === 'sent' && !flight.slow && d.now >= flight.sentAt + REQUEST_TIMEOUT_MS) d.setFlight(flight.key, { ...flight, slow: true });
  }
  const look = d.s.discovery.inFlight;
  if (look && !look.slow && d.now >= look.sentAt + REQUEST_TIMEOUT_MS) d.look({ inFlight: { ...look, slow: true } });
}
