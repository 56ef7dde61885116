/**
 * Shared mode: one SharedWorker per `{namespace, origin}`, reached through comlink on the tab's
 * own port.
 */
import * as Comlink from 'comlink';
import { CALL_TIMEOUT_MS, CONNECT_TIMEOUT_MS } from '../protocol/constants.ts';
import { ConnectionError, deserializeError, isSerializedError, type SerializedError, type TokenError } from '../protocol/errors.ts';
import { installErrorTransfer } from '../protocol/errorTransfer.ts';
import type { TabHello, Welcome, WorkerApi } from '../protocol/types.ts';
import { startBundledWorker } from './bundledWorker.ts';
import type { Calls, Connection } from './Connection.ts';
import { withTimeout } from './timeouts.ts';

installErrorTransfer(Comlink.transferHandlers);

export class SharedConnection implements Connection {
  readonly mode = 'shared' as const;
  readonly #worker: SharedWorker;
  readonly #remote: Comlink.Remote<WorkerApi>;
  readonly #failed: Promise<never>;

  /** Throws `ConnectionError` when the browser refuses to start the worker (CSP, bad URL). */
  constructor(name: string, workerUrl: URL | null) {
    const where = `the SharedWorker ${workerUrl?.href ?? '(bundled)'}`;
    const fail = (detail: unknown) => new ConnectionError(`Could not start ${where}: ${detail instanceof Error ? detail.message : String(detail)}`, { cause: detail });
    try {
      this.#worker = workerUrl ? new SharedWorker(workerUrl, { type: 'module', name }) : startBundledWorker(name);
    } catch (cause) {
      throw fail(cause);
    }
    this.#failed = new Promise<never>((_, reject) => {
      this.#worker.addEventListener('error', (event) => reject(fail((event as ErrorEvent).message || 'script not loaded (check workerUrl and CSP worker-src)')));
    });
    this.#failed.catch(() => {});
    this.#remote = Comlink.wrap<WorkerApi>(this.#worker.port);
  }

  hello(hello: TabHello, onError: (error: TokenError) => void): Promise<Welcome> {
    const hear = Comlink.proxy((wire: SerializedError) => isSerializedError(wire) && onError(deserializeError(wire)));
    return withTimeout(Promise.race([this.#remote.hello(hello, hear), this.#failed]), CONNECT_TIMEOUT_MS, 'Connecting to the worker');
  }

  call<K extends keyof Calls>(op: K, arg: Calls[K][0]): Promise<Calls[K][1]> {
    const method = this.#remote[op] as unknown as (arg: unknown) => Promise<Calls[K][1]>;
    return withTimeout(Promise.race([method(arg), this.#failed]), CALL_TIMEOUT_MS, `${op} (worker)`);
  }

  close(): void {
    this.#remote[Comlink.releaseProxy]();
    this.#worker.port.close();
  }
}
