/**
 * The calls of a shared-mode connection, through comlink's proxy of the tab's port. Loaded with the
 * supervision (superviseConnection.ts), which every call waits for: a new tab's first token needs
 * only the port itself (SharedConnection.ts).
 */
import * as Comlink from 'comlink';
import { CALL_TIMEOUT_MS, CONNECT_TIMEOUT_MS } from '../protocol/constants.ts';
import { deserializeError } from '../protocol/errors.ts';
import type { Operation, Operations, WorkerApi } from '../protocol/operations.ts';
import type { Welcome } from '../protocol/types.ts';
import type { SharedConnection } from './SharedConnection.ts';
import type { Connection } from './Connection.ts';

type Method = (...args: unknown[]) => Promise<unknown>;

/** A shared-mode connection: a `Connection` that can tell the worker the tab holds its lock. */
export interface SharedLink extends Connection {
  held(): void;
  /** Whether the worker still owes this port a reply (a call or the hello in flight). */
  readonly busy: boolean;
}

/**
 * `connection` as the supervision uses it: its hello with an error callback and its calls go through
 * comlink, each settling within its timeout.
 *
 * @example
 * const link = sharedLink(new SharedConnection(name, null, tabId, systemClock));
 * await link.hello(hello, onError);
 * await link.call('getToken', request);
 */
export function sharedLink(connection: SharedConnection): SharedLink {
  /** comlink's proxy of the worker, made on the first call through it (not the first hello: SharedConnection.ts). */
  let proxy: Comlink.Remote<WorkerApi> | null = null;
  /**
   * Each method's comlink proxy, made once and kept for the connection's life. comlink registers
   * every proxy it makes (`remote.getToken` is one) with a FinalizationRegistry; one that is
   * collected runs its cleanup — JavaScript, and a RELEASE message once none is left — and when that
   * happens in a page stored in the back/forward cache, Chromium evicts the page
   * (`JavaScriptExecution`). A proxy that is never garbage is never cleaned up.
   */
  const methods = new Map<string, Method>();
  /** Calls the worker's `name`; the reply is due until it arrives, and settles within `ms`. */
  const send = (ms: number, what: string, name: string, ...args: unknown[]): Promise<unknown> => {
    proxy ??= Comlink.wrap<WorkerApi>(connection.port);
    let method = methods.get(name);
    if (!method) {
      method = (proxy as unknown as Record<string, Method>)[name]!;
      methods.set(name, method);
    }
    return connection.settle(method(...args), ms, what);
  };
  return {
    mode: 'shared',
    get busy() {
      return connection.busy;
    },
    /** Says hello; `onError` hears the engine's failures that no call of this tab awaits. */
    hello: (hello, onError) =>
      send(
        CONNECT_TIMEOUT_MS,
        'hello (worker)',
        'hello',
        hello,
        Comlink.proxy((wire: unknown) => onError(deserializeError(wire))),
      ) as Promise<Welcome>,
    call: <K extends Operation>(op: K, arg: Operations[K][0]) => send(CALL_TIMEOUT_MS, `${op} (worker)`, op, arg) as Promise<Operations[K][1]>,
    held: () => connection.held(),
    close: () => connection.close(() => proxy?.[Comlink.releaseProxy]()),
  };
}
