/**
 * The tab's copy of the engine's snapshot. It changes only through `apply` (a validated channel
 * message) or `adopt` (a whole snapshot from a welcome or a leader's hello), and every change makes
 * a new frozen object, so `getSnapshot()` keeps its identity between changes
 * (`useSyncExternalStore` renders only when something changed). Listeners hang on an EventTarget,
 * which isolates them: one that throws is reported and the others still run.
 */
import type { TokenError } from '../protocol/errors.ts';
import { fail } from '../protocol/checks.ts';
import type { BroadcastMessage } from '../protocol/messages.ts';
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
  /** Messages that arrived before the welcome; replayed against it. */
  #pending: BroadcastMessage[] | null = [];

  constructor(mode: Mode) {
    super();
    this.snapshot = Object.freeze({ version: -1, status: 'connecting', mode, storage: 'memory', sessionId: null, userId: null, claims: null, tokens: Object.freeze({}) });
  }

  /** Takes a whole snapshot from the instance the tab is (now) connected to. */
  adopt(instance: string, snapshot: Snapshot): void {
    this.instance = instance;
    this.#set({ ...snapshot, tokens: Object.freeze({ ...snapshot.tokens }) });
    const pending = this.#pending ?? [];
    this.#pending = null;
    for (const message of pending) this.apply(message);
  }

  /**
   * Applies one validated channel message. Only the instance this tab is connected to is heard,
   * and only a version newer than the snapshot's:
   *
   *   worker A  v7 token ─────────────► applied
   *   worker B  v3 token (deploy race) ► ignored: other instance
   *   worker A  v6 (late duplicate) ───► ignored: not newer
   */
  apply(message: BroadcastMessage): void {
    if (this.#pending) {
      if (this.#pending.length < 1000) this.#pending.push(message);
      return;
    }
    const current = this.snapshot;
    if (message.type === 'hello' || message.instance !== this.instance || message.version <= current.version) return;
    const next = { ...current, version: message.version };
    let tokens: Record<string, SnapshotToken> = { ...current.tokens };
    if (message.type === 'token') {
      const { key, jwt, expiresAt, staleAt, claims, scheme } = message;
      tokens[key] = Object.freeze(scheme ? { jwt, expiresAt, staleAt, scheme } : { jwt, expiresAt, staleAt });
      if (claims) next.claims = frozen(claims);
      this.#set({ ...next, tokens: Object.freeze(tokens) });
      this.emit('token', { key, jwt, expiresAt, staleAt });
      return;
    }
    if (message.type === 'evict') {
      delete tokens[message.key];
    } else {
      if (message.type === 'status') {
        next.status = message.status;
        next.storage = message.storage;
        next.sessionId = message.sessionId;
        next.userId = message.userId;
        next.claims = message.claims && frozen(message.claims);
        // A status carries the whole view: its tokens are the tokens.
        if (message.tokens) tokens = Object.fromEntries(Object.entries(message.tokens).map(([key, t]) => [key, frozen(t)]));
      } else if (current.sessionId === message.sessionId) {
        next.sessionId = next.userId = next.claims = null;
        if (message.status) next.status = message.status;
        if (message.storage) next.storage = message.storage;
      }
      // Only the active session's tokens stay: a sign-out or a switch leaves none of the old one.
      tokens = Object.fromEntries(Object.entries(tokens).filter(([key]) => next.sessionId !== null && key.startsWith(`${next.sessionId}|`)));
    }
    this.#set({ ...next, tokens: Object.freeze(tokens) });
    if (message.type === 'signout') this.emit('signout', { sessionId: message.sessionId });
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

  #set(next: Snapshot): void {
    const previous = this.snapshot.status;
    this.snapshot = Object.freeze(next);
    this.dispatchEvent(new Event('change'));
    if (previous !== next.status) this.emit('status', { status: next.status, previous });
  }
}
