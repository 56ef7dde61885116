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

type Method = (...args: unknown[]) => Promise<unknown>;

export class SharedConnection implements Connection {
  readonly mode = 'shared' as const;
  readonly #worker: SharedWorker;
  /** comlink's proxy of the worker, made on the first call through it (not the first hello: below). */
  #proxy: Comlink.Remote<WorkerApi> | null = null;
  /**
   * Each method's comlink proxy, made once and kept for the connection's life. comlink registers
   * every proxy it makes (`remote.getToken` is one) with a FinalizationRegistry; one that is
   * collected runs its cleanup — JavaScript, and a RELEASE message once none is left — and when that
   * happens in a page stored in the back/forward cache, Chromium evicts the page
   * (`JavaScriptExecution`). A proxy that is never garbage is never cleaned up.
   */
  readonly #methods = new Map<string, Method>();
  /** Rejects when the worker script fails to load (a bad `workerUrl`, CSP `worker-src`), or on `close`. */
  readonly #failed: Promise<never>;
  #stop: (error: ConnectionError) => void = () => {};
  readonly #tabId: string;
  readonly #clock: Clock;
  /** Replies still due from the worker on this port (timed out or not). */
  #due = 0;
  #closed = false;

  /**
   * The worker's answer to the hello the constructor sent, when it was given one: a new tab's first
   * hello, which has no error callback (the supervision says hello again with it). It goes out the
   * moment the worker is created, as comlink's wire message straight on the port — comlink's proxy
   * machinery costs a new tab about a millisecond on first use, on the path of its first token. The
   * worker answers it as any call (portServer.ts); comlink ignores an answer to an id it did not send.
   */
  readonly welcome: Promise<Welcome> | null = null;

  /**
   * `name`: the SharedWorker's name (the worker key, or the name tabs moved to after a worker died);
   * `hello`: say hello at once (see `welcome`). Throws `ConnectionError` when the browser refuses to
   * start the worker.
   */
  constructor(name: string, workerUrl: URL | null, tabId: string, clock: Clock, hello?: TabHello) {
    this.#tabId = tabId;
    this.#clock = clock;
    const fail = (cause: unknown) => new ConnectionError(`The SharedWorker ${workerUrl ?? '(bundled)'} did not start: ${(cause as Error)?.message || 'check workerUrl and CSP worker-src'}`, { cause });
    try {
      this.#worker = workerUrl ? new SharedWorker(workerUrl, { type: 'module', name }) : startBundledWorker(name);
    } catch (cause) {
      throw fail(cause);
    }
    const { port } = this.#worker;
    let answer: Promise<Welcome> | null = null;
    if (hello) {
      // The tab id is this tab's own, unique: it serves as the message's id.
      port.postMessage({ id: tabId, type: 'APPLY', path: ['hello'], argumentList: [{ type: 'RAW', value: hello }] });
      this.#due++;
      answer = new Promise<Welcome>((resolve, reject) => {
        const hear = ({ data }: MessageEvent) => {
          if (data?.id !== tabId) return;
          port.removeEventListener('message', hear);
          this.#due--;
          if (data.type === 'RAW') resolve(data.value);
          else reject(deserializeError(data.value));
        };
        port.addEventListener('message', hear);
        port.start();
      });
    }
    this.#failed = new Promise<never>((_, reject) => {
      this.#stop = reject;
      this.#worker.addEventListener('error', (event) => reject(fail(event)));
    });
    this.#failed.catch(() => {});
    if (answer) this.welcome = this.#settle(answer, CONNECT_TIMEOUT_MS, 'hello (worker)');
  }

  /** Whether the worker still owes this port a reply: one would reach the page whenever it comes. */
  get busy(): boolean {
    return this.#due > 0;
  }

  /** Says hello; `onError` hears the engine's failures that no call of this tab awaits. */
  hello(hello: TabHello, onError: (error: TokenError) => void): Promise<Welcome> {
    return this.#settle(this.#send('hello', hello, Comlink.proxy((wire: unknown) => onError(deserializeError(wire)))), CONNECT_TIMEOUT_MS, 'hello (worker)') as Promise<Welcome>;
  }

  call<K extends Operation>(op: K, arg: Operations[K][0]): Promise<Operations[K][1]> {
    return this.#settle(this.#send(op, arg), CALL_TIMEOUT_MS, `${op} (worker)`) as Promise<Operations[K][1]>;
  }

  /**
   * Tells the worker this tab now holds its tab lock (see `held` in sharedWorker.ts). As comlink's
   * wire message straight on the port, like the first hello: it often goes before the first token.
   * Its answer is for no one.
   */
  held(): void {
    this.#worker.port.postMessage({ id: `${this.#tabId}:held`, type: 'APPLY', path: ['held'], argumentList: [] });
  }

  /** Disconnects: the worker forgets this tab at once, and calls still waiting for it reject. */
  close(): void {
    // A released comlink proxy throws on any use: close only once.
    if (this.#closed) return;
    this.#closed = true;
    this.#stop(closedError());
    this.#send('bye', this.#tabId).catch(() => {});
    this.#proxy?.[Comlink.releaseProxy]();
    this.#worker.port.close();
  }

  /** Calls the worker's `name`, counting the reply as due until it arrives (however late). */
  #send(name: string, ...args: unknown[]): Promise<unknown> {
    let method = this.#methods.get(name);
    this.#proxy ??= Comlink.wrap<WorkerApi>(this.#worker.port);
    if (!method) this.#methods.set(name, (method = (this.#proxy as unknown as Record<string, Method>)[name]!));
    this.#due++;
    return method(...args).finally(() => this.#due--);
  }

  #settle<T>(reply: Promise<T>, ms: number, what: string): Promise<T> {
    return withTimeout(Promise.race([reply, this.#failed]), ms, what, this.#clock);
  }
}
