/**
 * Shared mode: one SharedWorker per `{namespace, origin}`, reached through comlink on the tab's
 * own port.
 */
import * as Comlink from 'comlink';
import { CALL_TIMEOUT_MS, CONNECT_TIMEOUT_MS } from '../protocol/constants.ts';
import type { Clock } from '../protocol/clock.ts';
import { ConnectionError, deserializeError, type TokenError } from '../protocol/errors.ts';
import { installErrorTransfer } from '../protocol/errorTransfer.ts';
import type { TabHello, Welcome } from '../protocol/types.ts';
import type { WorkerApi } from '../protocol/operations.ts';
import { startBundledWorker } from './bundledWorker.ts';
import type { Operation, Operations } from '../protocol/operations.ts';
import { closedError, type Connection } from './Connection.ts';
import { withTimeout } from './timeouts.ts';

installErrorTransfer(Comlink.transferHandlers, deserializeError);

export class SharedConnection implements Connection {
  readonly mode = 'shared' as const;
  readonly #worker: SharedWorker;
  readonly #remote: Comlink.Remote<WorkerApi>;
  /** Rejects when the worker script fails to load (a bad `workerUrl`, CSP `worker-src`), or on `close`. */
  readonly #failed: Promise<never>;
  #stop: (error: ConnectionError) => void = () => {};
  readonly #tabId: string;
  readonly #clock: Clock;
  #closed = false;

  /** Throws `ConnectionError` when the browser refuses to start the worker. */
  constructor(name: string, workerUrl: URL | null, tabId: string, clock: Clock) {
    this.#tabId = tabId;
    this.#clock = clock;
    const fail = (cause: unknown) => new ConnectionError(`The SharedWorker ${workerUrl ?? '(bundled)'} did not start: ${(cause as Error)?.message || 'check workerUrl and CSP worker-src'}`, { cause });
    try {
      this.#worker = workerUrl ? new SharedWorker(workerUrl, { type: 'module', name }) : startBundledWorker(name);
    } catch (cause) {
      throw fail(cause);
    }
    this.#failed = new Promise<never>((_, reject) => {
      this.#stop = reject;
      this.#worker.addEventListener('error', (event) => reject(fail(event)));
    });
    this.#failed.catch(() => {});
    this.#remote = Comlink.wrap<WorkerApi>(this.#worker.port);
  }

  hello(hello: TabHello, onError: (error: TokenError) => void): Promise<Welcome> {
    return this.#settle(this.#remote.hello(hello, Comlink.proxy((wire: unknown) => onError(deserializeError(wire)))), CONNECT_TIMEOUT_MS, 'hello (worker)');
  }

  call<K extends Operation>(op: K, arg: Operations[K][0]): Promise<Operations[K][1]> {
    return this.#settle((this.#remote[op] as (arg: unknown) => Promise<Operations[K][1]>)(arg), CALL_TIMEOUT_MS, `${op} (worker)`);
  }

  /** Tells the worker this tab now holds its tab lock (see `held` in sharedWorker.ts). */
  held(): void {
    this.#remote.held().catch(() => {});
  }

  /** Disconnects: the worker forgets this tab at once, and calls still waiting for it reject. */
  close(): void {
    // A released comlink proxy throws on any use: close only once.
    if (this.#closed) return;
    this.#closed = true;
    this.#stop(closedError());
    this.#remote.bye(this.#tabId).catch(() => {});
    this.#remote[Comlink.releaseProxy]();
    this.#worker.port.close();
  }

  #settle<T>(reply: Promise<T>, ms: number, what: string): Promise<T> {
    return withTimeout(Promise.race([reply, this.#failed]), ms, what, this.#clock);
  }
}
