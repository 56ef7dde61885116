/**
 * The tab's copy of the engine's snapshot. It changes only through `apply` (a validated channel
 * message that continues it) or `adopt` (a whole snapshot over the port: a welcome, a resync, a
 * leader's hello), and every change makes a new frozen object, so `getSnapshot()` keeps its
 * identity between changes (`useSyncExternalStore` renders only when something changed). Listeners
 * hang on an EventTarget, which isolates them: one that throws is reported and the others still run.
 */
import type { TokenError } from '../protocol/errors.ts';
import { fail } from '../protocol/checks.ts';
import { type BroadcastMessage, snapshotToken } from '../protocol/messages.ts';
import type { Mode, Snapshot, SnapshotToken, Status } from '../protocol/types.ts';

/** Payloads of `tokens.on(...)` events. */
export interface TokenManagerEvents {
  token: { key: string } & SnapshotToken;
  signout: { sessionId: string };
  status: { status: Status; previous: Status };
  error: TokenError;
}
export type TokenManagerEvent = keyof TokenManagerEvents;
const EVENTS: readonly string[] = ['token', 'signout', 'status', 'error'];
const frozen = <T extends object>(value: T): T => Object.freeze({ ...value });

export class SnapshotMirror extends EventTarget {
  /** The current snapshot; replaced (never changed) by `adopt`, `apply` and `setMode`. */
  snapshot: Snapshot;
  /** The engine instance this tab is connected to; null before the first welcome. */
  instance: string | null = null;
  /** Settles once the resync that is out has landed (or failed); null when none is. Reads wait on it. */
  resyncing: Promise<void> | null = null;
  /** Channel messages held back — before the welcome, and while a resync is out — replayed after. */
  #held: BroadcastMessage[] | null = [];
  /** The version of the last snapshot that came over the port: nothing the channel says of it or before counts. */
  #base = -1;
  /**
   * Asks the engine for its whole snapshot over the tab's port (the `snapshot` operation). Without
   * one (a fold of the engine's changes in a unit test) nothing is ever asked.
   */
  readonly #source: (() => Promise<Snapshot>) | null;

  constructor(mode: Mode, source: (() => Promise<Snapshot>) | null = null) {
    super();
    this.#source = source;
    this.snapshot = Object.freeze({
      version: -1,
      status: 'connecting',
      mode,
      storage: 'memory',
      sessionId: null,
      userId: null,
      claims: null,
      tokens: Object.freeze({}),
    });
  }

  /**
   * Takes a whole snapshot that came over the port — a welcome, a resync, a leader's hello — whatever
   * its version: the port is the authority (SPEC 6). A snapshot equal to the mirror's keeps its
   * identity. After the first welcome, what it changed is announced as its messages would have been.
   */
  adopt(instance: string, snapshot: Snapshot): void {
    const announce = this.snapshot.version >= 0;
    this.instance = instance;
    this.#base = snapshot.version;
    const held = this.#held ?? [];
    this.#held = this.resyncing = null;
    // Same fields in the same order on both sides (the engine's snapshot is what the mirror mirrors);
    // the first welcome is always new.
    if (!announce || JSON.stringify(this.snapshot) !== JSON.stringify(snapshot))
      this.#set({ ...snapshot, tokens: Object.freeze({ ...snapshot.tokens }) }, announce);
    for (const message of held) this.apply(message);
  }

  /**
   * Applies one validated channel message of the instance this tab is connected to, when its
   * version is exactly one above the snapshot's. Anything else it cannot take from the channel:
   *
   *   worker A  v7 token ───────────────► applied (the snapshot was v6)
   *   worker B  v3 token (deploy race) ─► ignored: another instance
   *   worker A  v9 (v8 lost, or forged) ► resync: the port's snapshot replaces the mirror
   *   worker A  v7 again (a forgery) ────► resync
   *
   * and anything but a token — an eviction, a sign-out, a status — is applied at once and confirmed
   * over the port, so a forged sign-out is undone within one round trip and no read answers from it
   * meanwhile. (Tokens, the fast path of every refresh, are not: a forged one is corrected by the
   * worker's next message, whose version it repeats.)
   */
  apply(message: BroadcastMessage): void {
    if (this.#held) {
      if (this.#held.length < 1000) this.#held.push(message);
      return;
    }
    const current = this.snapshot;
    if (message.type === 'hello' || message.instance !== this.instance || message.version <= this.#base) return;
    if (message.version !== current.version + 1) return this.resync();
    const next = { ...current, version: message.version };
    let tokens: Record<string, SnapshotToken> = { ...current.tokens };
    if (message.type === 'token') {
      tokens[message.key] = snapshotToken(message);
      if (message.claims) next.claims = frozen(message.claims);
    } else if (message.type === 'evict') {
      delete tokens[message.key];
    } else {
      if (message.type === 'status') {
        const { status, storage, sessionId, userId, claims } = message;
        Object.assign(next, { status, storage, sessionId, userId, claims: claims && frozen(claims) });
        // A transition published as one message carries the whole token map after it.
        if (message.tokens) tokens = Object.fromEntries(Object.entries(message.tokens).map(([key, token]) => [key, snapshotToken(token)]));
      } else {
        if (current.sessionId === message.sessionId) next.sessionId = next.userId = next.claims = null;
        next.status = message.status ?? next.status;
        next.storage = message.storage ?? next.storage;
      }
      // Only the active session's tokens stay: a sign-out or a switch leaves none of the old one.
      tokens = Object.fromEntries(Object.entries(tokens).filter(([key]) => next.sessionId !== null && key.startsWith(`${next.sessionId}|`)));
    }
    // Anything but a token is confirmed, asked before the change is seen, so that a read made from a
    // listener already waits for the answer.
    if (message.type !== 'token') this.resync();
    this.#set({ ...next, tokens: Object.freeze(tokens) }, true);
  }

  /**
   * Asks the engine for its whole snapshot over the port, holding channel messages back meanwhile;
   * once it lands, the held messages that continue it (one version above, each) are applied and older
   * ones dropped. One resync at a time; none before the first welcome, which is one.
   */
  resync(): void {
    if (this.#held || !this.#source) return;
    // This buffer is this resync's: adopted meanwhile (a new worker's welcome), its answer is stale.
    const held: BroadcastMessage[] = [];
    this.#held = held;
    this.resyncing = this.#source().then(
      (snapshot) => {
        if (this.#held === held) this.adopt(this.instance!, snapshot);
      },
      // The port failed too (the worker is gone: its replacement's welcome will be adopted): the
      // mirror stays as it is, and the next message that does not fit asks again.
      () => {
        if (this.#held === held) this.#held = this.resyncing = null;
      },
    );
  }

  /** Marks the mirror as served by another mode (auto fell back to local). */
  setMode(mode: Mode): void {
    this.#set({ ...this.snapshot, mode });
  }

  subscribe(listener: () => void): () => void {
    return this.#listen('change', listener);
  }

  /** Throws `InvalidArgumentError` for an event name it does not know or a handler that is not a function. */
  on<E extends TokenManagerEvent>(event: E, handler: (payload: TokenManagerEvents[E]) => void): () => void {
    if (!EVENTS.includes(event)) fail('on() event', EVENTS.join(' or '), event);
    return this.#listen(event, handler);
  }

  #listen<E extends TokenManagerEvent>(event: E | 'change', handler: (payload: TokenManagerEvents[E]) => void): () => void {
    if (typeof handler !== 'function') fail('a listener', 'a function', handler);
    const listener = (e: Event) => handler((e as CustomEvent<TokenManagerEvents[E]>).detail);
    this.addEventListener(event, listener);
    return () => this.removeEventListener(event, listener);
  }

  emit<E extends TokenManagerEvent>(event: E, payload: TokenManagerEvents[E]): void {
    this.dispatchEvent(new CustomEvent(event, { detail: payload }));
  }

  /**
   * Replaces the snapshot and tells the listeners; `announce`: also a `token` event for each token
   * that changed and `signout` when the session ended, as the messages of the change would have.
   */
  #set(next: Snapshot, announce = false): void {
    const previous = this.snapshot;
    this.snapshot = Object.freeze(next);
    this.dispatchEvent(new Event('change'));
    if (previous.status !== next.status) this.emit('status', { status: next.status, previous: previous.status });
    if (!announce) return;
    for (const [key, token] of Object.entries(next.tokens)) if (previous.tokens[key]?.jwt !== token.jwt) this.emit('token', { key, ...token });
    if (previous.sessionId !== null && next.sessionId === null) this.emit('signout', { sessionId: previous.sessionId });
  }
}
