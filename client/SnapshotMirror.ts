/**
 * The tab's copy of the engine's snapshot. It changes only through `apply` (a message from the
 * channel) or `adopt` (a whole snapshot from a welcome or a leader's hello), and every change makes
 * a new frozen object, so `getSnapshot()` keeps its identity between changes
 * (`useSyncExternalStore` renders only when something changed).
 */
import type { BroadcastMessage } from '../protocol/messages.ts';
import type { TokenError } from '../protocol/errors.ts';
import type { Mode, Snapshot, SnapshotToken, Status } from '../protocol/types.ts';

/** Payloads of `tokens.on(...)` events. */
export interface TokenManagerEvents {
  token: { key: string; jwt: string; expiresAt: number; staleAt: number };
  signout: { sessionId: string };
  status: { status: Status; previous: Status };
  error: TokenError;
}
export type TokenManagerEvent = keyof TokenManagerEvents;
type Handler<E extends TokenManagerEvent> = (payload: TokenManagerEvents[E]) => void;

export class SnapshotMirror {
  #snapshot: Snapshot;
  #instance: string | null = null;
  /** Messages that arrived before the welcome; replayed against it. */
  #pending: BroadcastMessage[] | null = [];
  readonly #listeners = new Set<() => void>();
  readonly #handlers: { [E in TokenManagerEvent]: Set<Handler<E>> } = {
    token: new Set(), signout: new Set(), status: new Set(), error: new Set(),
  };

  constructor(mode: Mode) {
    this.#snapshot = Object.freeze({ version: -1, status: 'connecting', mode, storage: 'memory', sessionId: null, tokens: Object.freeze({}) });
  }

  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  get instance(): string | null {
    return this.#instance;
  }

  /** Takes a whole snapshot from the instance the tab is (now) connected to. */
  adopt(instance: string, snapshot: Snapshot): void {
    const previous = this.#snapshot;
    this.#instance = instance;
    this.#set(Object.freeze({ ...snapshot, tokens: Object.freeze({ ...snapshot.tokens }) }));
    const pending = this.#pending ?? [];
    this.#pending = null;
    if (previous.status !== this.#snapshot.status) this.emit('status', { status: this.#snapshot.status, previous: previous.status });
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
  apply(message: BroadcastMessage): boolean {
    if (this.#pending) {
      if (this.#pending.length < 1000) this.#pending.push(message);
      return false;
    }
    if (message.type === 'hello') return false; // leaders are followed by the connection, not here
    if (message.instance !== this.#instance || message.version <= this.#snapshot.version) return false;
    const current = this.#snapshot;
    switch (message.type) {
      case 'token': {
        const token: SnapshotToken = { jwt: message.jwt, expiresAt: message.expiresAt, staleAt: message.staleAt };
        this.#set({ ...current, version: message.version, tokens: Object.freeze({ ...current.tokens, [message.key]: Object.freeze(token) }) });
        this.emit('token', { key: message.key, ...token });
        return true;
      }
      case 'evict': {
        const tokens = { ...current.tokens };
        delete tokens[message.key];
        this.#set({ ...current, version: message.version, tokens: Object.freeze(tokens) });
        return true;
      }
      case 'signout': {
        const prefix = `${message.sessionId}|`;
        const tokens = Object.fromEntries(Object.entries(current.tokens).filter(([key]) => !key.startsWith(prefix)));
        const sessionId = current.sessionId === message.sessionId ? null : current.sessionId;
        this.#set({ ...current, version: message.version, sessionId, tokens: Object.freeze(tokens) });
        this.emit('signout', { sessionId: message.sessionId });
        return true;
      }
      case 'status': {
        const tokens = message.sessionId === current.sessionId
          ? current.tokens
          : Object.freeze(Object.fromEntries(Object.entries(current.tokens).filter(([key]) => message.sessionId !== null && key.startsWith(`${message.sessionId}|`))));
        this.#set({ ...current, version: message.version, status: message.status, sessionId: message.sessionId, storage: message.storage, tokens });
        if (current.status !== message.status) this.emit('status', { status: message.status, previous: current.status });
        return true;
      }
    }
  }

  /** Marks the mirror as served by another mode (auto fell back to local). */
  setMode(mode: Mode): void {
    if (this.#snapshot.mode !== mode) this.#set({ ...this.#snapshot, mode });
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  on<E extends TokenManagerEvent>(event: E, handler: Handler<E>): () => void {
    const set = this.#handlers[event] as Set<Handler<E>>;
    set.add(handler);
    return () => set.delete(handler);
  }

  emit<E extends TokenManagerEvent>(event: E, payload: TokenManagerEvents[E]): void {
    for (const handler of this.#handlers[event] as Set<Handler<E>>) {
      try {
        handler(payload);
      } catch (error) {
        // An app's handler must not break the mirror; surface it where the app will see it.
        setTimeout(() => { throw error; });
      }
    }
  }

  #set(next: Snapshot): void {
    this.#snapshot = Object.freeze(next);
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (error) {
        setTimeout(() => { throw error; });
      }
    }
  }
}
