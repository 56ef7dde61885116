/**
 * The reads of the cache (SPEC 4): the stale-while-revalidate table for a `getToken`, the reads
 * tabs report, and what the poller keeps fresh — the read keys within their leeway and the default
 * token of the active session.
 */
import { MIN_LEEWAY_S } from '../protocol/constants.ts';
import { classify } from '../protocol/freshness.ts';
import { cacheKey } from '../protocol/names.ts';
import type { TokenRequest } from '../protocol/types.ts';
import { requestDiscovery } from './discovery.ts';
import type { Draft } from './Draft.ts';
import { ensureFlight } from './flights.ts';
import { dueReads, inWindow, sweepable, withinLeeway } from './refreshPlan.ts';
import { defaultKeyOf, isFailing } from './state.ts';

const DEFAULT_REQUEST: TokenRequest = Object.freeze({
  template: null,
  organizationId: null,
  expiresInSeconds: null,
  skipCache: false,
  leewayInSeconds: MIN_LEEWAY_S,
});

/** A caller whose session just became known is given at least this long, so rounding fails no one. */
const MIN_WAIT_MS = 1000;

/**
 * The SWR table of SPEC 4 for call `id`: fresh, or stale above the hard cutoff (then one refresh for
 * everyone), is answered now; anything else waits for the key's flight until `deadline`. In an
 * outage the hard cutoff no longer applies: a token is served until its real expiry.
 */
export function read(d: Draft, id: number, request: TokenRequest, deadline: number): void {
  const sessionId = d.sessionId;
  if (sessionId === null) {
    if (d.s.session.kind === 'signed-out') return d.settle(id, { value: null });
    // Cold start with the origin unreachable: wait for the look-up as long as the deadline allows.
    d.setWaiter(id, { request, deadline, why: 'the session is not known yet', flight: null });
    d.look({ waiters: [...d.s.discovery.waiters, id] });
    return requestDiscovery(d);
  }
  const key = cacheKey(sessionId, request);
  noteRead(d, key, request);
  const entry = d.s.tokens.get(key);
  // A token a server refused asks for a newer one: a cached token other than it is one (it arrived
  // after the tab sent the refused one), and only the refused one cached means a new mint.
  if (entry && (!request.skipCache || (request.refused !== undefined && entry.jwt !== request.refused))) {
    const freshness = classify(entry.expiresAt, request.leewayInSeconds, d.now, d.s.pollIntervalMs, isFailing(d.s));
    // Stale-while-revalidate: the caller gets the stale token now; one refresh for everyone.
    if (freshness === 'stale') ensureFlight(d, key, sessionId, request, true);
    if (freshness !== 'hard') return d.settle(id, { value: entry.jwt });
  }
  const why = request.skipCache
    ? 'skipCache asks for a new token'
    : !entry
      ? 'none is cached'
      : entry.expiresAt <= d.now
        ? 'the cached one expired'
        : 'the cached one is too close to its expiry';
  const flight = ensureFlight(d, key, sessionId, request, false);
  d.setWaiter(id, { request, deadline: Math.max(d.now + MIN_WAIT_MS, deadline), why, flight: key });
  d.setFlight(key, { ...(d.s.flights.get(key) ?? flight), waiters: [...flight.waiters, id] });
}

/** Records a read of `key` now; a larger leeway than any reported in the window is kept. */
export function noteRead(d: Draft, key: string, request: TokenRequest): void {
  const seen = d.s.reads.get(key);
  const within = inWindow(seen, d.now);
  if (d.s.blocked.has(key)) {
    const blocked = new Set(d.s.blocked);
    blocked.delete(key);
    d.s.blocked = blocked;
  }
  d.s.reads = new Map(d.s.reads).set(key, {
    request: within ? seen.request : { ...request, skipCache: false, refused: undefined },
    leewayS: within ? Math.max(seen.leewayS, request.leewayInSeconds) : request.leewayInSeconds,
    lastReadAt: within ? Math.max(seen.lastReadAt, d.now) : d.now,
  });
}

/** Reads a tab reports; a report about another session's key was made before a switch and is ignored. */
export function noteReads(d: Draft, reads: readonly { key: string; request: TokenRequest }[]): void {
  const sessionId = d.sessionId;
  if (sessionId === null) return;
  for (const { key, request } of reads) if (key === cacheKey(sessionId, request)) noteRead(d, key, request);
}

/** A tab saw `request`'s token stale: one deduplicated background refresh. */
export function refresh(d: Draft, request: TokenRequest): void {
  const sessionId = d.sessionId;
  if (sessionId === null) return;
  const key = cacheKey(sessionId, request);
  noteRead(d, key, request);
  if (withinLeeway(d.s.tokens.get(key), request.leewayInSeconds, d.now)) ensureFlight(d, key, sessionId, request, true);
}

/** The default token of the active session is always kept fresh (SPEC 4), unless its mint failed for good. */
export function ensureDefaultToken(d: Draft): void {
  const sessionId = d.sessionId;
  if (sessionId === null) return;
  const key = defaultKeyOf(sessionId);
  if (d.s.blocked.has(key)) return;
  const read = d.s.reads.get(key);
  const leewayS = Math.max(MIN_LEEWAY_S, inWindow(read, d.now) ? read.leewayS : MIN_LEEWAY_S);
  if (withinLeeway(d.s.tokens.get(key), leewayS, d.now)) ensureFlight(d, key, sessionId, DEFAULT_REQUEST, true);
}

/** Refreshes every read key within its leeway, and the default token. */
export function refreshDue(d: Draft): void {
  const sessionId = d.sessionId;
  if (sessionId === null) return;
  for (const [key, read] of dueReads(d.s.reads, d.s.blocked, d.s.tokens, sessionId, d.now)) ensureFlight(d, key, sessionId, read.request, true);
  ensureDefaultToken(d);
}

/** Forgets reads older than the window (and their blocks), and drops expired tokens nobody reads. */
export function sweep(d: Draft): void {
  const reads = new Map(d.s.reads);
  const blocked = new Set(d.s.blocked);
  for (const [key, read] of d.s.reads) {
    if (inWindow(read, d.now)) continue;
    reads.delete(key);
    blocked.delete(key);
  }
  d.s.reads = reads;
  d.s.blocked = blocked;
  const sessionId = d.sessionId;
  for (const key of sweepable(d.s.tokens, sessionId && defaultKeyOf(sessionId), d.now, (k) => reads.has(k))) d.evict(key);
}
