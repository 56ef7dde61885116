import type { EngineStats, Mode, ReadReport, TabHello, TokenRequest, Welcome } from '../protocol/types.ts';

/**
 * How a tab reaches the engine: the SharedWorker (shared mode) or the leader tab (local mode).
 * Every method settles within the call timeout.
 */
export interface Connection {
  readonly mode: Mode;
  hello(hello: TabHello): Promise<Welcome>;
  getToken(request: TokenRequest): Promise<string | null>;
  refresh(request: TokenRequest): void;
  noteReads(reads: ReadReport[]): void;
  visible(): void;
  setActiveSession(sessionId: string | null): Promise<void>;
  signOut(): Promise<void>;
  stats(): Promise<EngineStats>;
  close(): void;
}
