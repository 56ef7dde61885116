import type { TokenError } from '../protocol/errors.ts';
import type { EngineStats, Mode, ReadReport, TabHello, TokenRequest, Welcome } from '../protocol/types.ts';

/**
 * How a tab reaches the engine: the SharedWorker (shared mode) or the leader tab (local mode).
 * Every method settles within the call timeout.
 */
export interface Connection {
  readonly mode: Mode;
  /** `onError` hears the engine's failures that no call awaits. */
  hello(hello: TabHello, onError: (error: TokenError) => void): Promise<Welcome>;
  getToken(request: TokenRequest): Promise<string | null>;
  refresh(request: TokenRequest): void;
  noteReads(reads: ReadReport[]): void;
  visible(): void;
  setActiveSession(sessionId: string | null): Promise<void>;
  signOut(): Promise<void>;
  stats(): Promise<EngineStats>;
  close(): void;
}
