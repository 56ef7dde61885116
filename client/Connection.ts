import { ConnectionError, type TokenError } from '../protocol/errors.ts';
import type { Operation, Operations } from '../protocol/operations.ts';
import type { Mode, TabHello, Welcome } from '../protocol/types.ts';

/**
 * How a tab reaches the engine: the SharedWorker (shared mode) or the leader tab (local mode).
 * Every call settles within the call timeout.
 */
export interface Connection {
  readonly mode: Mode;
  /** `onError` hears the engine's failures that no call awaits. */
  hello(hello: TabHello, onError: (error: TokenError) => void): Promise<Welcome>;
  call<K extends Operation>(op: K, arg: Operations[K][0]): Promise<Operations[K][1]>;
  close(): void;
}

/** What every call of a closed manager, or of a connection it closed, rejects with. */
export const closedError = (): ConnectionError => new ConnectionError('The token manager was closed');

/**
 * How long a hello may go unanswered before the tab looks for the worker that runs the engine
 * (superviseConnection.ts). A worker runs the engine only while it holds the engine lock, so a worker
 * started under the key's name after the tabs moved to another waits, and a closing worker that
 * Firefox still hands out never answers: the running worker's lock names it.
 */
export const STALL_MS = 1000;
