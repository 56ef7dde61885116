import { OUTAGE_WAIT_MS } from '../protocol/constants.ts';
import { cacheKey } from '../protocol/names.ts';
import type { Clock } from '../protocol/clock.ts';
import { ConnectionError, InvalidArgumentError } from '../protocol/errors.ts';
import { classify, staleAt } from '../protocol/freshness.ts';
import { parseReadReports, parseTokenRequest } from '../protocol/checks.ts';
import type { Engine, EngineChange, EngineConfig, EngineSnapshot, EngineStats, ProofRequest, ReadReport, SignInRequest, SignedOut, TokenRequest } from '../protocol/types.ts';
import { ChangeFeed } from './ChangeFeed.ts';
import type { Flight } from './Flight.ts';
import type { EngineContext } from './EngineContext.ts';
import { activeSessionId, initialState, type Action, type EngineState } from './engineState.ts';
import { attemptMint } from './mintAttempt.ts';
import { MintTable } from './MintTable.ts';
import { OutagePolicy } from './OutagePolicy.ts';
import { Persister, restoreAction } from './Persister.ts';
import { Poller } from './Poller.ts';
import { ReadLog } from './ReadLog.ts';
import { defaultKeyOf, reduce } from './reduce.ts';
import { Refresher } from './Refresher.ts';
import { SessionActions } from './SessionActions.ts';
import { runEffect, type EffectRunners } from './runEffect.ts';
import { RetryPolicy } from './RetryPolicy.ts';
import { SessionDiscovery } from './SessionDiscovery.ts';
import type { TokenOrigin } from './TokenOrigin.ts';
import type { TokenStore } from './TokenStore.ts';

/** What the engine is given instead of reaching for globals (createEngine.ts wires the platform). */
export interface TokenEngineDeps {
  clock: Clock;
  /** The protocol of the token origin. */
  origin: TokenOrigin;
  /** null: nothing is persisted (`storage: 'memory'`). Ignored when `config.persist` is false. */
  store: TokenStore | null;
  /** Source of backoff jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/**
 * The token engine (SPEC 3–5): one per `{namespace, origin}`, owned by the SharedWorker (or the
 * local-mode leader). A façade over its parts: the state changes only through `reduce`, one action
 * at a time, and the effects a transition asks for run after it — storage writes (Persister),
 * settling mints in flight (MintTable), releasing callers waiting for a session (SessionDiscovery)
 * — and then its changes are published (ChangeFeed). An action dispatched while effects run waits
 * its turn: a transition never starts inside another.
 *
 * @example
 * const engine = createEngine(config);
 * await engine.ready;
 * engine.setTabCount(1);
 * const jwt = await engine.getToken(parseTokenRequest({ template: 'api' }));
 */
export class TokenEngine implements Engine {
  readonly ready: Promise<void>;

  readonly #config: EngineConfig;
  readonly #clock: Clock;
  readonly #origin: TokenOrigin;
  readonly #feed = new ChangeFeed();
  readonly #reads: ReadLog;
  readonly #outage: OutagePolicy;
  readonly #poller: Poller;
  readonly #mints: MintTable;
  readonly #discovery: SessionDiscovery;
  readonly #persister: Persister;
  readonly #refresher: Refresher;
  readonly #sessions: SessionActions;
  readonly #runners: EffectRunners;
  #state: EngineState;
  #queue: Action[] | null = null;
  #tabs = 0;

  constructor(config: EngineConfig, deps: TokenEngineDeps) {
    this.#config = config;
    this.#clock = deps.clock;
    this.#origin = deps.origin;
    this.#reads = new ReadLog(deps.clock);
    this.#outage = new OutagePolicy({ clock: deps.clock, retry: new RetryPolicy(deps.random ?? Math.random), onRetry: () => this.#refresher.retryParked() });
    this.#poller = new Poller({ clock: deps.clock, intervalMs: this.#config.pollIntervalMs, onTick: () => this.#refresher.tick() });
    this.#persister = new Persister(this.#config.persist ? deps.store : null, {
      clock: deps.clock,
      onFailure: (error) => {
        // IndexedDB failed: carry on in memory, and say so in the snapshot.
        this.#feed.report(error);
        this.#dispatch({ type: 'storage', storage: 'memory' });
      },
    });
    this.#state = initialState(this.#persister.kind, deps.clock.now());
    const ctx: EngineContext = {
      clock: deps.clock,
      origin: deps.origin,
      outage: this.#outage,
      state: () => this.#state,
      dispatch: (action) => this.#dispatch(action),
      report: (error) => this.#feed.report(error),
      originAnswered: () => this.#refresher.originAnswered(),
      originFailed: (error) => {
        this.#outage.failure(error);
        this.#dispatch({ type: 'outage', failing: true });
      },
    };
    const wanted = (flight: Flight): boolean => this.#refresher.wanted(flight);
    this.#mints = new MintTable(ctx, (flight) => attemptMint(flight, ctx, { mints: this.#mints, block: (key) => this.#reads.block(key), wanted }));
    this.#discovery = new SessionDiscovery(ctx, () => this.#refresher.ensureDefaultToken());
    this.#refresher = new Refresher(ctx, { mints: this.#mints, reads: this.#reads, discovery: this.#discovery });
    this.#sessions = new SessionActions(ctx, { discovery: this.#discovery, refresher: this.#refresher });
    const read = (request: TokenRequest, deadline: number) => this.#read(request, deadline);
    this.#runners = { clock: deps.clock, origin: deps.origin, persister: this.#persister, discovery: this.#discovery, mints: this.#mints, poller: this.#poller, outage: this.#outage, read };
    this.ready = this.#start();
  }

  snapshot(): EngineSnapshot {
    return this.#feed.snapshot(this.#state);
  }

  subscribe(listener: (change: EngineChange) => void): () => void {
    return this.#feed.subscribe(listener);
  }

  /** Errors nobody awaits: a failed background refresh, a failed `end` call, a storage failure. */
  onError(listener: (error: unknown) => void): () => void {
    return this.#feed.onError(listener);
  }

  async getToken(request: TokenRequest): Promise<string | null> {
    const valid = this.#request(request);
    await this.ready;
    return this.#read(valid, this.#clock.now() + OUTAGE_WAIT_MS);
  }

  refresh(request: TokenRequest): void {
    this.#refresher.refresh(this.#request(request));
  }

  noteReads(reads: readonly ReadReport[]): void {
    // The whole batch is validated before any of it is applied.
    const valid = parseReadReports(reads);
    const sessionId = activeSessionId(this.#state);
    if (this.#state.closed || sessionId === null) return;
    for (const { key, request } of valid) {
      // A report about another session's key was made before a switch: it no longer means anything.
      if (key === cacheKey(sessionId, request)) this.#reads.note(key, request);
    }
  }

  visible(): void {
    if (this.#state.closed) return;
    if (this.#state.session.kind !== 'active') {
      if (this.#state.session.kind === 'signed-out') this.#discovery.request();
      return;
    }
    // Not the re-check of a restored session: every tab says hello with `visible: true` when it
    // opens, so re-checking here would put `GET {client}` ahead of the first token of a reload
    // (SPEC 10). The first poll tick does it, in the background.
    this.#refresher.refreshDue();
  }

  setTabCount(count: number): void {
    this.#tabs = count;
    if (!this.#state.closed) this.#poller.setActive(count > 0);
  }

  async setActiveSession(sessionId: string | null): Promise<number> {
    return this.#sessions.setActiveSession(sessionId, this.ready);
  }

  async useSession(sessionId: string): Promise<void> {
    return this.#sessions.useSession(sessionId, this.ready);
  }

  async sync(): Promise<number> {
    await this.ready;
    return this.#sessions.sync();
  }

  async signOut(): Promise<SignedOut> {
    await this.ready;
    return this.#sessions.signOut();
  }

  /** OpenID Connect: the provider's sign-in URL for a new authorization request. */
  async signIn(request: SignInRequest): Promise<string> {
    return (await this.#redirects('signIn')).beginSignIn(request);
  }

  /** OpenID Connect: redeems the provider's answer; the new grant replaces the one before it (whose tokens go with it). */
  async handleRedirect(url: string): Promise<{ returnTo: string; version: number }> {
    const { sessionId, userId, token, returnTo } = await (await this.#redirects('handleRedirect')).completeSignIn(url);
    this.#refresher.originAnswered();
    this.#dispatch({ type: 'session', sessionId, userId });
    this.#dispatch({ type: 'token', key: defaultKeyOf(sessionId), entry: { ...token, staleAt: staleAt(token.expiresAt) }, epoch: this.#state.epoch });
    return { returnTo, version: this.#state.version };
  }

  /** OpenID Connect: a DPoP proof for one request of `tokens.fetch`. */
  async proof(request: ProofRequest): Promise<string> {
    return (await this.#redirects('proof')).proof(activeSessionId(this.#state) ?? '', request);
  }

  /** The origin, for what only one that signs in by redirect (OpenID Connect) does. */
  async #redirects(what: string): Promise<Required<TokenOrigin>> {
    await this.ready;
    if (!this.#origin.completeSignIn) throw new InvalidArgumentError(`${what}() needs oidc`);
    return this.#origin as Required<TokenOrigin>;
  }

  /** A tab's request, checked; an OpenID Connect manager has one token, asked for with no options. */
  #request(value: unknown): TokenRequest {
    return parseTokenRequest(value, this.#origin.oneToken);
  }

  stats(): EngineStats {
    const c = this.#origin.counters();
    return { tabs: this.#tabs, mints: c.mints, requests: { mint: c.mint, client: c.client, end: c.end, failed: c.failed }, refreshes: { ...this.#mints.refreshes } };
  }

  close(): void {
    this.#dispatch({ type: 'close' });
  }

  /** Resolves when every storage write issued so far has settled (tests, orderly shutdown). */
  flush(): Promise<void> {
    return this.#persister.flush();
  }

  /**
   * The SWR table of SPEC 4. `deadline` bounds how long the caller waits in total (OUTAGE_WAIT_MS
   * from the call), across a wait for the session and a wait for a mint.
   */
  #read(request: TokenRequest, deadline: number): Promise<string | null> {
    const state = this.#state;
    if (state.closed) return Promise.reject(new ConnectionError('The token engine was closed'));
    const sessionId = activeSessionId(state);
    if (sessionId === null) {
      if (state.session.kind === 'signed-out') return Promise.resolve(null);
      // Cold start with the origin unreachable: wait for discovery as long as the deadline allows.
      return this.#discovery.waitFor(deadline).then(() => this.#read(request, deadline));
    }
    const key = cacheKey(sessionId, request);
    this.#reads.note(key, request);
    const entry = state.tokens.get(key);
    if (entry && !request.skipCache) {
      const freshness = classify(entry.expiresAt, request.leewayInSeconds, this.#clock.now(), this.#config.pollIntervalMs, state.failing);
      if (freshness === 'fresh') return Promise.resolve(entry.jwt);
      if (freshness === 'stale') {
        // Stale-while-revalidate: the caller gets the stale token now; one refresh for everyone.
        this.#mints.ensure(key, sessionId, request, true);
        return Promise.resolve(entry.jwt);
      }
    }
    // What the caller needed of the origin, for the message should the wait run out.
    const why = request.skipCache ? 'skipCache asks for a new token' : !entry ? 'none is cached' : entry.expiresAt <= this.#clock.now() ? 'the cached one expired' : 'the cached one is too close to its expiry';
    // At least a second, so a caller whose session just became known is not failed by rounding.
    return this.#mints.ensure(key, sessionId, request, false).wait(request, Math.max(1000, deadline - this.#clock.now()), why);
  }

  /** Runs one transition and its effects; actions dispatched meanwhile run after, in order. */
  #dispatch(action: Action): void {
    if (this.#queue) {
      this.#queue.push(action);
      return;
    }
    this.#queue = [action];
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
        const { state, changes, effects } = reduce(this.#state, next, this.#clock.now());
        this.#state = state;
        for (const effect of effects) runEffect(effect, this.#runners);
        this.#feed.publish(changes);
      }
    } finally {
      this.#queue = null;
    }
  }

  async #start(): Promise<void> {
    // The origin's own set-up (OpenID Connect: its code and its stored grant); a refusal rejects ready.
    await this.#origin.ready;
    try {
      const stored = await this.#persister.read();
      if (stored && !this.#state.closed) {
        this.#dispatch(restoreAction(stored, this.#clock.now(), this.#origin));
        // A stored session makes ready resolve without a request. The origin re-checks it on the
        // first poll tick, not now and not on the hello of a visible tab: a reload with a fresh
        // stored token must reach its first token before any network request (SPEC 10).
        this.#discovery.recheckLater();
        this.#refresher.ensureDefaultToken();
        return;
      }
      this.#discovery.request();
      await this.#discovery.running;
    } catch (error) {
      // ready never rejects: whatever went wrong is reported, and the status says where we are.
      this.#feed.report(error);
    }
  }
}
