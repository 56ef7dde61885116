import { MIN_LEEWAY_S } from '../protocol/constants.ts';
import { cacheKey } from '../protocol/names.ts';
import type { TokenRequest } from '../protocol/types.ts';
import type { EngineContext } from './EngineContext.ts';
import { activeSessionId } from './engineState.ts';
import type { Flight } from './Flight.ts';
import type { MintTable } from './MintTable.ts';
import type { ReadLog } from './ReadLog.ts';
import { defaultKeyOf } from './reduce.ts';
import { dueReads, sweepable, withinLeeway, worthRetrying } from './refreshPlan.ts';
import type { SessionDiscovery } from './SessionDiscovery.ts';

const DEFAULT_REQUEST: TokenRequest = Object.freeze({ template: null, organizationId: null, expiresInSeconds: null, skipCache: false, leewayInSeconds: MIN_LEEWAY_S });

/**
 * Carries out the refresh plan (refreshPlan.ts) — what a poll tick, a visible tab and a tab's
 * stale read start: refreshes of read keys within their leeway, the default token of the active
 * session kept fresh (SPEC 4), expired unread tokens dropped, and the session looked up when
 * signed out or due for a re-check; and, when the backoff gate opens, the mints and the look-up
 * that were parked behind it.
 *
 * @example
 * const refresher = new Refresher(ctx, { mints, reads, discovery });
 * poller = new Poller({ clock, intervalMs, onTick: () => refresher.tick() });
 */
export class Refresher {
  readonly #ctx: EngineContext;
  readonly #mints: MintTable;
  readonly #reads: ReadLog;
  readonly #discovery: SessionDiscovery;

  constructor(ctx: EngineContext, parts: { mints: MintTable; reads: ReadLog; discovery: SessionDiscovery }) {
    this.#ctx = ctx;
    this.#mints = parts.mints;
    this.#reads = parts.reads;
    this.#discovery = parts.discovery;
  }

  /** One poll tick. */
  tick(): void {
    const { closed, session } = this.#ctx.state();
    if (closed) return;
    if (session.kind !== 'active') {
      // Signed out: look for a sign-in made elsewhere (another tab, a test session token).
      if (session.kind === 'signed-out') this.#discovery.request();
      return;
    }
    this.#discovery.tick();
    this.refreshDue();
    // Drops tokens that have expired and that nobody has read for the read window.
    for (const key of sweepable(this.#ctx.state().tokens, defaultKeyOf(session.sessionId), this.#ctx.clock.now(), (k) => this.#reads.leewayOf(k) !== null)) {
      this.#ctx.dispatch({ type: 'evict', key });
    }
  }

  /** Refreshes every read key within its leeway, and the default token of the active session. */
  refreshDue(): void {
    const sessionId = activeSessionId(this.#ctx.state());
    if (sessionId === null) return;
    for (const read of dueReads(this.#reads.live(), this.#ctx.state().tokens, sessionId, this.#ctx.clock.now())) this.#mints.ensure(read.key, sessionId, read.request, true);
    this.ensureDefaultToken();
  }

  /** A tab saw `request`'s token stale: one deduplicated background refresh. */
  refresh(request: TokenRequest): void {
    const state = this.#ctx.state();
    const sessionId = activeSessionId(state);
    if (state.closed || sessionId === null) return;
    const key = cacheKey(sessionId, request);
    this.#reads.note(key, request);
    if (withinLeeway(state.tokens.get(key), request.leewayInSeconds, this.#ctx.clock.now())) this.#mints.ensure(key, sessionId, request, true);
  }

  /** The default token of the active session is always kept fresh (SPEC 4). */
  ensureDefaultToken(): void {
    const state = this.#ctx.state();
    const sessionId = activeSessionId(state);
    if (sessionId === null || state.closed) return;
    const key = defaultKeyOf(sessionId);
    if (this.#reads.isBlocked(key)) return;
    const leewayS = Math.max(MIN_LEEWAY_S, this.#reads.leewayOf(key) ?? MIN_LEEWAY_S);
    if (withinLeeway(state.tokens.get(key), leewayS, this.#ctx.clock.now())) this.#mints.ensure(key, sessionId, DEFAULT_REQUEST, true);
  }

  /**
   * The first success after a failure: status back to ok, the backoff reset, and everything parked
   * behind the gate sent now (the gate's timer was cancelled with the backoff).
   */
  originAnswered(): void {
    this.#ctx.outage.success();
    if (!this.#ctx.state().failing) return;
    this.#ctx.dispatch({ type: 'outage', failing: false });
    this.retryParked();
  }

  /** The backoff gate opened (or a success reopened it): everything parked behind it goes now. */
  retryParked(): void {
    if (this.#ctx.state().closed) return;
    if (!this.#ctx.outage.isOpen()) return this.#ctx.outage.wake();
    this.#mints.drain((flight) => this.wanted(flight));
    this.#discovery.drain();
  }

  /** Whether a mint that failed with an outage is still worth retrying. */
  wanted(flight: Flight): boolean {
    const state = this.#ctx.state();
    const id = activeSessionId(state);
    return worthRetrying({
      waiters: flight.waiterCount,
      isDefault: id !== null && flight.key === defaultKeyOf(id),
      cached: state.tokens.has(flight.key),
      read: this.#reads.leewayOf(flight.key) !== null,
    });
  }
}
