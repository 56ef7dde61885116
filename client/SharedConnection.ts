/**
 * Shared mode: one SharedWorker per `{namespace, origin}`, reached through comlink on the tab's
 * own port.
 */
import * as Comlink from 'comlink';
import { CALL_TIMEOUT_MS, CONNECT_TIMEOUT_MS } from '../protocol/constants.ts';
import { ConnectionError, deserializeError, isSerializedError, type SerializedError } from '../protocol/errors.ts';
import { installErrorTransfer } from '../protocol/errorTransfer.ts';
import type { TokenError } from '../protocol/errors.ts';
import type { EngineStats, ReadReport, TabHello, TokenRequest, Welcome, WorkerApi } from '../protocol/types.ts';
import { startBundledWorker } from './bundledWorker.ts';
import type { Connection } from './Connection.ts';
import { withTimeout } from './timeouts.ts';

installErrorTransfer(Comlink.transferHandlers);

export class SharedConnection implements Connection {
  readonly mode = 'shared' as const;
  readonly #worker: SharedWorker;
  readonly #remote: Comlink.Remote<WorkerApi>;
  readonly #failed: Promise<never>;
  readonly #where: string;

  /** Throws `ConnectionError` when the browser refuses to start the worker (CSP, bad URL). */
  constructor(name: string, workerUrl: URL | null) {
    this.#where = workerUrl ? `the SharedWorker at ${workerUrl.href}` : 'the bundled SharedWorker';
    try {
      this.#worker = workerUrl ? new SharedWorker(workerUrl, { type: 'module', name }) : startBundledWorker(name);
    } catch (cause) {
      throw new ConnectionError(`The browser refused to start ${this.#where}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    this.#failed = new Promise<never>((_, reject) => {
      this.#worker.addEventListener('error', (event) => {
        const detail = event instanceof ErrorEvent && event.message ? event.message : 'script not loaded (check workerUrl and CSP worker-src)';
        reject(new ConnectionError(`Could not start ${this.#where}: ${detail}`));
      });
    });
    this.#failed.catch(() => {});
    this.#remote = Comlink.wrap<WorkerApi>(this.#worker.port);
  }

  hello(hello: TabHello, onError: (error: TokenError) => void): Promise<Welcome> {
    const hear = Comlink.proxy((wire: SerializedError) => {
      if (isSerializedError(wire)) onError(deserializeError(wire));
    });
    return withTimeout(Promise.race([this.#remote.hello(hello, hear), this.#failed]), CONNECT_TIMEOUT_MS, `Connecting to ${this.#where}`);
  }

  getToken(request: TokenRequest): Promise<string | null> {
    return this.#call(this.#remote.getToken(request), 'getToken');
  }

  refresh(request: TokenRequest): void {
    this.#remote.refresh(request).catch(() => {});
  }

  noteReads(reads: ReadReport[]): void {
    this.#remote.noteReads(reads).catch(() => {});
  }

  visible(): void {
    this.#remote.visible().catch(() => {});
  }

  setActiveSession(sessionId: string | null): Promise<void> {
    return this.#call(this.#remote.setActiveSession(sessionId), 'setActiveSession');
  }

  signOut(): Promise<void> {
    return this.#call(this.#remote.signOut(), 'signOut');
  }

  stats(): Promise<EngineStats> {
    return this.#call(this.#remote.stats(), 'stats');
  }

  close(): void {
    this.#remote[Comlink.releaseProxy]();
    this.#worker.port.close();
  }

  #call<T>(promise: Promise<T>, what: string): Promise<T> {
    return withTimeout(Promise.race([promise, this.#failed]), CALL_TIMEOUT_MS, `${what} (worker)`);
  }
}
