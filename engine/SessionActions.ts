import type { SignedOut } from '../protocol/types.ts';
import { checkSessionId } from '../protocol/checks.ts';
import type { EngineContext } from './EngineContext.ts';
import { activeSessionId } from './engineState.ts';
import type { Refresher } from './Refresher.ts';
import type { SessionDiscovery } from './SessionDiscovery.ts';

/**
 * What the app does to the session (SPEC 2, 11): switch it (checked against the origin), take the
 * one a tab was created with, re-read it now, sign out. Each resolves with the version of the
 * snapshot that shows its outcome, so the tab can wait until its own mirror shows it.
 *
 * @example
 * const sessions = new SessionActions(ctx, { discovery, refresher });
 * await sessions.sync();
 */
export class SessionActions {
  readonly #ctx: EngineContext;
  readonly #discovery: SessionDiscovery;
  readonly #refresher: Refresher;

  constructor(ctx: EngineContext, parts: { discovery: SessionDiscovery; refresher: Refresher }) {
    this.#ctx = ctx;
    this.#discovery = parts.discovery;
    this.#refresher = parts.refresher;
  }

  /** `ready`: checks come before it, the change after it. */
  async setActiveSession(sessionId: string | null, ready: Promise<void>): Promise<number> {
    const id = sessionId === null ? null : checkSessionId(sessionId);
    await ready;
    const current = activeSessionId(this.#ctx.state());
    if (id === null) {
      // Signed out here, without telling the origin: the session stays alive there, so discovery
      // must not pick it up again on the next poll.
      this.#ctx.dispatch(current !== null ? { type: 'signout', sessionId: current, dismiss: true } : { type: 'no-session' });
      if (current !== null) await this.#ctx.origin.forget?.(current);
    } else if (!this.#ctx.state().closed) {
      // An id the origin does not list is refused before anything changes (SPEC 2). An OpenID
      // Connect origin lists one session, its grant's: there is nothing to switch to.
      const userId = await this.#discovery.confirm(id);
      this.#adopt(id, userId);
    }
    return this.#ctx.state().version;
  }

  /** The `sessionId` option of a tab: taken as given (a reload stays free of requests), re-checked in the background. */
  async useSession(sessionId: string, ready: Promise<void>): Promise<void> {
    const id = checkSessionId(sessionId);
    await ready;
    this.#adopt(id, null);
  }

  async sync(): Promise<number> {
    await this.#discovery.sync();
    return this.#ctx.state().version;
  }

  async signOut(): Promise<SignedOut> {
    const ctx = this.#ctx;
    const sessionId = activeSessionId(ctx.state());
    if (ctx.state().closed || sessionId === null) return { version: ctx.state().version, redirect: null };
    // Read while the session still exists (an end-session URL carries its ID token as a hint).
    const redirect = await ctx.origin.signOutRedirect?.(sessionId).catch((error: unknown) => ctx.report(error));
    // Locally first: from this moment no API returns the session's tokens, whatever the origin says.
    ctx.dispatch({ type: 'signout', sessionId, dismiss: true });
    const { version } = ctx.state();
    try {
      await ctx.origin.endSession(sessionId);
    } catch (error) {
      ctx.report(error);
    }
    return { version, redirect: redirect ?? null };
  }

  /** Makes `sessionId` the active session (its default token wanted at once), or names its user. */
  #adopt(sessionId: string, userId: string | null): void {
    if (this.#ctx.state().closed) return;
    const switching = activeSessionId(this.#ctx.state()) !== sessionId;
    this.#ctx.dispatch({ type: 'session', sessionId, userId });
    if (switching) this.#refresher.ensureDefaultToken();
  }
}
