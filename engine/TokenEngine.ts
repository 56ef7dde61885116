import { OUTAGE_WAIT_MS } from '../protocol/constants.ts';
import type { Clock } from '../protocol/clock.ts';
import { InvalidArgumentError } from '../protocol/errors.ts';
import type {
  Engine,
  EngineChange,
  EngineConfig,
  EngineSnapshot,
  EngineStats,
  ProofRequest,
  ReadReport,
  SignInRequest,
  SignedOut,
  TokenRequest,
} from '../protocol/types.ts';
import type { Action } from './actions.ts';
import { Persister } from './Persister.ts';
import { reduce } from './reduce.ts';
import { runEffect, type Runners } from './runEffect.ts';
import { activeSessionId, initialState, snapshotOf, type EngineState } from './state.ts';
import type { OriginTraits, TokenOrigin } from './TokenOrigin.ts';
import type { TokenStore } from './TokenStore.ts';

/** What the engine is given instead of reaching for globals (worker/createEngine.ts wires the platform). */
export interface TokenEngineDeps {
  clock: Clock;
  /** The protocol of the token origin. */
  origin: TokenOrigin;
  /** null: nothing is persisted (`storage: 'memory'`). Ignored when `config.persist` is false. */
  store: TokenStore | null;
  /** Source of backoff jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/** The Clerk Frontend API's ways; an origin states where it differs. */
const CLERK_TRAITS: OriginTraits = { oneToken: false, pollSignedOut: true, switchable: true, sessionFromToken: false };

type Listener<T> = (value: T) => void;

/**
 * The token engine (SPEC 3–5): one per worker key, owned by the SharedWorker (or the local-mode
 * leader). A store around `reduce`: each action — a call of a tab, or what came of an effect — goes
 * through the reducer, and the effects of the transition are carried out by the runners
 * (runEffect.ts), which report back with actions. One action at a time: an action dispatched while
 * a transition is reduced or carried out is an error, as in Redux (runners report asynchronously).
 * The engine takes its input as validated: the host checks what a tab sends (protocol/operations.ts).
 *
 * @example
 * const engine = createEngine(config);
 * await engine.ready;
 * engine.setTabCount(1);
 * const jwt = await engine.getToken({ template: 'api', organizationId: null, expiresInSeconds: null, skipCache: false, leewayInSeconds: 15 });
 */
export class TokenEngine implements Engine {
  readonly ready: Promise<void>;
  readonly oneToken: boolean;
  readonly #clock: Clock;
  readonly #origin: TokenOrigin;
  readonly #persister: Persister;
  readonly #runners: Runners;
  /** The promises of calls waiting, by call id. Call ids are negative: request ids, given by the reducer, are positive. */
  readonly #calls = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void }>();
  readonly #listeners = new Set<Listener<EngineChange>>();
  readonly #errorListeners = new Set<Listener<unknown>>();
  #state: EngineState;
  #lastCall = 0;
  #busy = false;
  #memo: EngineSnapshot | null = null;

  constructor(config: EngineConfig, deps: TokenEngineDeps) {
    this.#clock = deps.clock;
    this.#origin = deps.origin;
    const traits = { ...CLERK_TRAITS, ...deps.origin.traits };
    this.oneToken = traits.oneToken;
    const store = config.persist ? deps.store : null;
    this.#persister = new Persister(store, deps.clock);
    this.#state = initialState({ storage: store ? 'indexeddb' : 'memory', now: deps.clock.now(), traits, pollIntervalMs: config.pollIntervalMs });
    let started!: () => void;
    const ready = new Promise<void>((resolve) => (started = resolve));
    this.#runners = {
      clock: deps.clock,
      origin: deps.origin,
      persister: this.#persister,
      random: deps.random ?? Math.random,
      dispatch: (action) => this.#dispatch(action),
      settle: (id, outcome) => {
        const call = this.#calls.get(id);
        if (!call) return;
        this.#calls.delete(id);
        if ('error' in outcome) call.reject(outcome.error);
        else call.resolve(outcome.value);
      },
      publish: (change) => this.#emit(this.#listeners, change),
      report: (error) => this.#emit(this.#errorListeners, error),
      ready: started,
      alarm: { handle: null },
    };
    // The origin's own set-up (OpenID Connect: its code and its stored grant); a refusal rejects ready.
    this.ready = Promise.resolve(deps.origin.ready).then(() => {
      this.#dispatch({ type: 'start' });
      return ready;
    });
  }

  snapshot(): EngineSnapshot {
    if (this.#memo?.version !== this.#state.version) this.#memo = snapshotOf(this.#state);
    return this.#memo;
  }

  subscribe(listener: Listener<EngineChange>): () => void {
    return add(this.#listeners, listener);
  }

  /** Errors nobody awaits: a failed background refresh, a failed `end` call, a storage failure. */
  onError(listener: Listener<unknown>): () => void {
    return add(this.#errorListeners, listener);
  }

  async getToken(request: TokenRequest): Promise<string | null> {
    await this.ready;
    return this.#call((id) => ({ type: 'read', id, request, deadline: this.#clock.now() + OUTAGE_WAIT_MS }));
  }

  refresh(request: TokenRequest): void {
    this.#dispatch({ type: 'refresh', request });
  }

  noteReads(reads: readonly ReadReport[]): void {
    this.#dispatch({ type: 'reads', reads });
  }

  visible(): void {
    this.#dispatch({ type: 'visible' });
  }

  setTabCount(count: number): void {
    this.#dispatch({ type: 'tabs', count });
  }

  async setActiveSession(sessionId: string | null): Promise<number> {
    await this.ready;
    return this.#call((id) => ({ type: 'set-active', id, sessionId }));
  }

  async useSession(sessionId: string): Promise<void> {
    await this.ready;
    this.#dispatch({ type: 'use', sessionId });
  }

  async sync(): Promise<number> {
    await this.ready;
    return this.#call((id) => ({ type: 'sync', id }));
  }

  async signOut(): Promise<SignedOut> {
    await this.ready;
    return this.#call((id) => ({ type: 'sign-out', id }));
  }

  /** OpenID Connect: the provider's sign-in URL for a new authorization request. */
  async signIn(request: SignInRequest): Promise<string> {
    return (await this.#redirects('signIn')).beginSignIn(request);
  }

  /** OpenID Connect: redeems the provider's answer; the new grant replaces the one before it (whose tokens go with it). */
  async handleRedirect(url: string): Promise<{ returnTo: string; version: number }> {
    const result = await (await this.#redirects('handleRedirect')).completeSignIn(url);
    return this.#call((id) => ({ type: 'signed-in', id, result }));
  }

  /** OpenID Connect: a DPoP proof for one request of `tokens.fetch`. */
  async proof(request: ProofRequest): Promise<string> {
    return (await this.#redirects('proof')).proof(activeSessionId(this.#state) ?? '', request);
  }

  stats(): EngineStats {
    const c = this.#origin.counters();
    const { tabs, refreshes } = this.#state;
    return { tabs, mints: c.mints, requests: { mint: c.mint, client: c.client, end: c.end, failed: c.failed }, refreshes: { ...refreshes } };
  }

  close(): void {
    this.#dispatch({ type: 'close' });
  }

  /** Resolves when every storage write issued so far has settled (tests, orderly shutdown). */
  flush(): Promise<void> {
    return this.#persister.flush();
  }

  /** The origin, for what only one that signs in by redirect (OpenID Connect) does. */
  async #redirects(what: string): Promise<Required<TokenOrigin>> {
    await this.ready;
    if (!this.#origin.completeSignIn) throw new InvalidArgumentError(`${what}() needs oidc`);
    return this.#origin as Required<TokenOrigin>;
  }

  /** Dispatches the action `make` builds for a new call id; resolves as the reducer settles the call. */
  #call<T>(make: (id: number) => Action): Promise<T> {
    const id = --this.#lastCall;
    return new Promise<T>((resolve, reject) => {
      this.#calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#dispatch(make(id));
    });
  }

  /** Runs one transition and carries out its effects, in order. */
  #dispatch(action: Action): void {
    if (this.#busy) throw new Error(`tabtoken: ${action.type} was dispatched while another action was being reduced or carried out`);
    this.#busy = true;
    try {
      const { state, effects } = reduce(this.#state, action, this.#clock.now());
      this.#state = state;
      for (const effect of effects) {
        try {
          runEffect(effect, this.#runners);
        } catch (error) {
          // One runner that throws must not keep the others from running.
          this.#emit(this.#errorListeners, error);
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Calls every listener; one that throws does not stop the others or the engine: its error goes to
   * the error listeners (an error listener that throws has nowhere left to report to).
   */
  #emit<T>(listeners: Set<Listener<T>>, value: T): void {
    for (const listener of [...listeners]) {
      try {
        listener(value);
      } catch (error) {
        if (listeners !== (this.#errorListeners as Set<unknown>)) this.#emit(this.#errorListeners, error);
      }
    }
  }
}

function add<T>(set: Set<T>, item: T): () => void {
  set.add(item);
  return () => {
    set.delete(item);
  };
}
