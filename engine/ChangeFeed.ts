import type { EngineChange, EngineSnapshot } from '../protocol/types.ts';
import { snapshotOf, type EngineState } from './engineState.ts';

type Listener<T> = (value: T) => void;

/**
 * Where the engine's changes and unawaited failures go: the change listeners (the transports, which
 * put every change on the BroadcastChannel), the error listeners (the tabs' `error` event), and the
 * snapshot, built once per version. A listener that throws is reported and the others still run.
 *
 * @example
 * const feed = new ChangeFeed();
 * feed.subscribe((change) => channel.postMessage({ v: 1, instance, ...change }));
 * feed.publish(changes);
 */
export class ChangeFeed {
  readonly #listeners = new Set<Listener<EngineChange>>();
  readonly #errorListeners = new Set<Listener<unknown>>();
  #memo: EngineSnapshot | null = null;

  subscribe(listener: Listener<EngineChange>): () => void {
    return add(this.#listeners, listener);
  }

  onError(listener: Listener<unknown>): () => void {
    return add(this.#errorListeners, listener);
  }

  /** The snapshot of `state`: the same object until a change raises the version. */
  snapshot(state: EngineState): EngineSnapshot {
    if (this.#memo?.version !== state.version) this.#memo = snapshotOf(state);
    return this.#memo;
  }

  /** Each change to every listener, in order. */
  publish(changes: readonly EngineChange[]): void {
    for (const change of changes) {
      for (const listener of [...this.#listeners]) {
        try {
          listener(change);
        } catch (error) {
          // One broken subscriber must not stop the others or the engine.
          this.report(error);
        }
      }
    }
  }

  /** A failure no caller receives. */
  report(error: unknown): void {
    for (const listener of [...this.#errorListeners]) {
      try {
        listener(error);
      } catch {
        // An error listener that throws has nowhere left to report to.
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
