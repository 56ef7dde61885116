import type { TokenError } from '../protocol/errors.ts';
import type { EngineStats, Mode, ReadReport, TabHello, TokenRequest, Welcome } from '../protocol/types.ts';

/** The calls a tab makes after hello: argument and result of each. */
export interface Calls {
  getToken: [TokenRequest, string | null];
  refresh: [TokenRequest, void];
  noteReads: [ReadReport[], void];
  visible: [null, void];
  setActiveSession: [string | null, void];
  signOut: [null, void];
  stats: [null, EngineStats];
}

/**
 * How a tab reaches the engine: the SharedWorker (shared mode) or the leader tab (local mode).
 * Every call settles within the call timeout.
 */
export interface Connection {
  readonly mode: Mode;
  /** `onError` hears the engine's failures that no call awaits. */
  hello(hello: TabHello, onError: (error: TokenError) => void): Promise<Welcome>;
  call<K extends keyof Calls>(op: K, arg: Calls[K][0]): Promise<Calls[K][1]>;
  close(): void;
}
