/**
 * Shared mode: one SharedWorker per `{namespace, origin}`, reached on the tab's own port. The calls
 * go through comlink's proxy of the port (sharedLink.ts, loaded with the supervision that every call
 * waits for); this is the port itself, which a new tab needs before any of that: the worker's start,
 * the first hello and the tab lock's report, both as comlink's wire messages (see `welcome`).
 */
import * as Comlink from 'comlink';
import { CONNECT_TIMEOUT_MS } from '../protocol/constants.ts';
import type { Clock } from '../protocol/clock.ts';
import { ConnectionError, deserializeError } from '../protocol/errors.ts';
import { installErrorTransfer } from '../protocol/errorTransfer.ts';
import type { TabHello, Welcome } from '../protocol/types.ts';
import { startBundledWorker } from './bundledWorker.ts';
import { closedError } from './Connection.ts';
import { withTimeout } from './timeouts.ts';

installErrorTransfer(Comlink.transferHandlers, deserializeError);

export class SharedConnection {
  /** Kept for the connection's life: its `error` event says the script did not load. */
  readonly #worker: SharedWorker;
  /** The tab's port to the worker; comlink's proxy of it is made on the first call (sharedLink.ts). */
  readonly port: MessagePort;
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
    const fail = (cause: unknown) =>
      new ConnectionError(`The SharedWorker ${workerUrl ?? '(bundled)'} did not start: ${(cause as Error)?.message || 'check workerUrl and CSP worker-src'}`, {
        cause,
      });
    try {
      this.#worker = workerUrl ? new SharedWorker(workerUrl, { type: 'module', name }) : startBundledWorker(name);
    } catch (cause) {
      throw fail(cause);
    }
    this.port = this.#worker.port;
    const { port } = this;
    this.#failed = new Promise<never>((_, reject) => {
      this.#stop = reject;
      this.#worker.addEventListener('error', (event) => reject(fail(event)));
    });
    this.#failed.catch(() => {});
    if (!hello) return;
    // The tab id is this tab's own, unique: it serves as the message's id.
    this.#post(tabId, 'hello', hello);
    const answer = new Promise<Welcome>((resolve, reject) => {
      const hear = ({ data }: MessageEvent) => {
        if (data?.id !== tabId) return;
        port.removeEventListener('message', hear);
        if (data.type === 'RAW') resolve(data.value);
        else reject(deserializeError(data.value));
      };
      port.addEventListener('message', hear);
      port.start();
    });
    this.welcome = this.settle(answer, CONNECT_TIMEOUT_MS, 'hello (worker)');
  }

  /** Whether the worker still owes this port a reply: one would reach the page whenever it comes. */
  get busy(): boolean {
    return this.#due > 0;
  }

  /**
   * `reply`, the answer the worker owes this port to a message sent on it, counted as due until it
   * arrives (however late); settles within `ms`, or when the worker fails to start or the connection
   * closes.
   */
  settle<T>(reply: Promise<T>, ms: number, what: string): Promise<T> {
    const arrived = () => void this.#due--;
    this.#due++;
    reply.then(arrived, arrived);
    return withTimeout(Promise.race([reply, this.#failed]), ms, what, this.#clock);
  }

  /**
   * Tells the worker this tab now holds its tab lock (see `held` in sharedWorker.ts). As comlink's
   * wire message straight on the port, like the first hello: it often goes before the first token.
   * Its answer is for no one.
   */
  held(): void {
    this.#post(`${this.#tabId}:held`, 'held');
  }

  /**
   * Disconnects: the worker forgets this tab at once, and calls still waiting for it reject.
   * `release` lets go of comlink's proxy of the port, when one was made (sharedLink.ts): after the
   * goodbye, which the worker would not read once the proxy's release closed its end.
   */
  close(release?: () => void): void {
    // A released comlink proxy throws on any use: close only once.
    if (this.#closed) return;
    this.#closed = true;
    this.#stop(closedError());
    this.#post(`${this.#tabId}:bye`, 'bye', this.#tabId);
    release?.();
    this.port.close();
  }

  /** Calls the worker's `name` with plain arguments as comlink's wire message; `id` names its answer. */
  #post(id: string, name: string, ...args: unknown[]): void {
    this.port.postMessage({ id, type: 'APPLY', path: [name], argumentList: args.map((value) => ({ type: 'RAW', value })) });
  }
}
