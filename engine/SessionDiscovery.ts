import { InvalidArgumentError } from '../protocol/errors.ts';
import { activeSessionId } from './engineState.ts';
import type { EngineContext } from './EngineContext.ts';
import { unavailableAfter } from './OutagePolicy.ts';
import type { OriginSessions } from './TokenOrigin.ts';

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
  timer: unknown;
}

/**
 * Finding the session (SPEC 2, 5): one `readSessions` (Clerk: `GET {client}`) at a time and never
 * while the backoff gate is closed; the re-check of a session restored from storage; the look-up
 * again once the session reaches its end; and the callers waiting for a session to be known.
 *
 * @example
 * const discovery = new SessionDiscovery(ctx, () => engine.ensureDefaultToken());
 * discovery.request();
 * await discovery.waitFor(clock.now() + 10_000);
 */
export class SessionDiscovery {
  readonly #ctx: EngineContext;
  /** A session became active through discovery: its default token is wanted now. */
  readonly #onSession: () => void;
  readonly #waiters = new Set<Waiter>();
  #running: Promise<void> | null = null;
  /** A discovery is owed once the backoff gate opens. */
  #pending = false;
  /** A session restored from storage still has to be re-checked against the origin. */
  #recheck = false;
  /** When the active session reaches its end (local clock), as the origin last said; void once the epoch moves. */
  #ends: { epoch: number; at: number } | null = null;

  constructor(ctx: EngineContext, onSession: () => void) {
    this.#ctx = ctx;
    this.#onSession = onSession;
  }

  /** The discovery in flight, if any. */
  get running(): Promise<void> | null {
    return this.#running;
  }

  /** Starts a discovery now, or owes one until the backoff gate opens. */
  request(): void {
    if (this.#ctx.state().closed || this.#running) return;
    if (!this.#ctx.outage.isOpen()) {
      this.#pending = true;
      this.#ctx.outage.wake();
      return;
    }
    this.#running = this.#discover().finally(() => {
      this.#running = null;
    });
  }

  /** The gate opened: a discovery that was owed goes now. */
  drain(): void {
    if (!this.#pending) return;
    this.#pending = false;
    this.request();
  }

  /** A session came from storage: the first poll tick re-checks it (not now: SPEC 10's reload). */
  recheckLater(): void {
    this.#recheck = true;
  }

  /**
   * A poll tick: the re-check of a restored session, and — for a session past its end — the look-up
   * again, so every tab signs out within a poll interval of the end rather than at the next refresh.
   */
  tick(): void {
    const ends = this.#ends;
    const pastEnd = ends !== null && ends.epoch === this.#ctx.state().epoch && this.#ctx.clock.now() >= ends.at;
    if (!this.#recheck && !pastEnd) return;
    this.#recheck = false;
    if (pastEnd) this.#ends = null;
    this.request();
  }

  /**
   * `tokens.sync()`: one read now, outside the backoff, whose answer is adopted as it is — its last
   * active session, even one signed out here; none listed: signed out (SPEC 2). A failure changes
   * nothing: not the session, not the status, not the backoff.
   */
  async sync(): Promise<void> {
    const answer = await this.#readNow();
    if (this.#ctx.state().closed) return;
    this.#ctx.originAnswered();
    this.apply(answer, true);
  }

  /**
   * Checks `sessionId` against a fresh read: the user of the session when it is an active session of
   * this client; otherwise `InvalidArgumentError`, and nothing changes.
   */
  async confirm(sessionId: string): Promise<string | null> {
    const answer = await this.#readNow();
    if (!answer.sessions.has(sessionId)) throw new InvalidArgumentError(`setActiveSession: ${sessionId} is not a session of this browser at the origin`);
    this.#ctx.originAnswered();
    return answer.users.get(sessionId) ?? null;
  }

  async #readNow(): Promise<OriginSessions> {
    try {
      return await this.#ctx.origin.readSessions();
    } catch (error) {
      throw this.#ctx.origin.classify(error) === 'outage' ? unavailableAfter(error, 'the sessions could not be read') : error;
    }
  }

  /** Resolves when a session is known (active or signed out); rejects at `deadline`. */
  waitFor(deadline: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: null };
      waiter.timer = this.#ctx.clock.setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(unavailableAfter(this.#ctx.outage.lastError, 'the session is not known yet'));
      }, Math.max(0, deadline - this.#ctx.clock.now()));
      this.#waiters.add(waiter);
      if (!this.#running) this.request();
    });
  }

  /** Lets every waiting caller go on (`error` undefined) or fails them. */
  release(error?: unknown): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) {
      this.#ctx.clock.clearTimeout(w.timer);
      if (error === undefined) w.resolve();
      else w.reject(error);
    }
  }

  async #discover(): Promise<void> {
    const ctx = this.#ctx;
    const epoch = ctx.state().epoch;
    let answer: OriginSessions;
    try {
      answer = await ctx.origin.readSessions();
    } catch (error) {
      if (epoch !== ctx.state().epoch || ctx.state().closed) return;
      if (ctx.origin.classify(error) === 'outage') {
        ctx.originFailed(error);
        this.#pending = true;
        ctx.outage.wake();
        return;
      }
      // A 4xx: the origin will not give us a client. Signed out, unless a session is already known,
      // which a failed re-check does not end.
      ctx.report(error);
      if (ctx.state().session.kind === 'unknown') ctx.dispatch({ type: 'no-session' });
      return;
    }
    // The answer describes the world before a switch or a sign-out made meanwhile; that choice stands:
    //
    //   GET client ──────────────────────────▶ { last_active: A }   dropped: epoch moved on
    //        setActiveSession(B) ─▶ epoch+1
    if (epoch !== ctx.state().epoch || ctx.state().closed) return;
    ctx.originAnswered();
    this.apply(answer, false);
  }

  /**
   * Applies what the origin said about the sessions. A discovery keeps a listed session, and picks
   * the last active one only when none is — never one signed out here; `sync` (`adopt`) takes the
   * last active one whatever this engine thought of it (SPEC 2).
   */
  apply(answer: OriginSessions, adopt: boolean): void {
    const ctx = this.#ctx;
    const current = activeSessionId(ctx.state());
    const pick = answer.lastActiveSessionId;
    if (current !== null && answer.sessions.has(current)) {
      if (!adopt || pick === null || pick === current) {
        const userId = answer.users.get(current);
        if (userId !== undefined) ctx.dispatch({ type: 'session', sessionId: current, userId });
        this.#noteEnd(answer, current);
        return;
      }
    } else if (current !== null) {
      ctx.dispatch({ type: 'signout', sessionId: current, dismiss: false });
    }
    if (pick !== null && (adopt || !ctx.state().dismissed.has(pick))) {
      ctx.dispatch({ type: 'session', sessionId: pick, userId: answer.users.get(pick) ?? null });
      this.#noteEnd(answer, pick);
      this.#onSession();
    } else if (activeSessionId(ctx.state()) === null) {
      ctx.dispatch({ type: 'no-session' });
    }
  }

  /**
   * The end of a listed session, when it is still ahead: an origin that keeps listing a session past
   * its `expire_at` (one that extends sessions on activity) is not asked again every tick.
   */
  #noteEnd(answer: OriginSessions, sessionId: string): void {
    const at = answer.endsAt.get(sessionId);
    this.#ends = at !== undefined && at > this.#ctx.clock.now() ? { epoch: this.#ctx.state().epoch, at } : null;
  }
}
