/**
 * The tab's link to the engine, kept up for the tab's lifetime: it connects (SharedWorker, or the
 * leader tab in local mode), falls back to local mode under `mode: 'auto'` when the worker cannot
 * start, starts a new worker when the one it was connected to dies, and sends each call to the
 * connection that is up — asking again of the replacement a call the dead worker took with it:
 *
 *   tab     getToken ──► worker A ✕ (ended)   reattach ─► worker B ──► getToken ──► token
 */
import { workerLockName } from '../protocol/names.ts';
import { InvalidArgumentError, type TokenError } from '../protocol/errors.ts';
import type { Clock } from '../protocol/clock.ts';
import type { Operation, Operations } from '../protocol/operations.ts';
import type { TabHello } from '../protocol/types.ts';
import { closedError, type Connection } from './Connection.ts';
import type { SnapshotMirror } from './SnapshotMirror.ts';

/** A shared-mode connection: a `Connection` that can tell the worker the tab holds its lock. */
export interface SharedLink extends Connection {
  held(): void;
}


export interface SuperviseOptions {
  /** The worker key: the worker's lock is named after it and its instance. */
  key: string;
  hello: TabHello;
  mirror: SnapshotMirror;
  /** `shared`: try the SharedWorker first; `fallback`: go local when it cannot start (mode `auto`). */
  shared: boolean;
  fallback: boolean;
  /** Resolves once the tab holds its own lock (`tabtoken:tab:{id}`). */
  tabLock: Promise<unknown>;
  onError(error: TokenError): void;
  /** Web Locks; the worker-death watch needs them. */
  locks: LockManager | undefined;
  /** Times the retry of a reattach that failed. */
  clock: Clock;
  /** Throws `ConnectionError` when the browser refuses to start the worker. */
  openShared(): SharedLink;
  /** Loads local mode (a separate chunk); what it resolves with connects through it. */
  loadLocal(): Promise<() => Connection>;
}

export interface Supervised {
  /** Resolves once connected with the whole snapshot in the mirror; rejects like `ready`. */
  readonly connected: Promise<void>;
  call<K extends Operation>(op: K, arg: Operations[K][0]): Promise<Operations[K][1]>;
  close(): void;
}

/** How long a tab waits before it tries again to start a worker, after an attempt that failed. */
export const REATTACH_DELAY_MS = 1000;


/**
 * @example
 * const link = superviseConnection({ hello, mirror, shared: true, fallback: true, tabLock, onError, locks, openShared, loadLocal });
 * await link.connected;
 * await link.call('getToken', request);
 */
export function superviseConnection(o: SuperviseOptions): Supervised {
  let connection: Connection | null = null;
  let closed = false;
  /** Settles once a connection is up: the first, or the next one after the worker died. */
  let attached: Promise<void> = Promise.resolve();

  const adopt = async (link: Connection) => {
    const welcome = await link.hello(o.hello, o.onError);
    o.mirror.adopt(welcome.instance, welcome.snapshot);
    return welcome.instance;
  };

  const attach = async (): Promise<void> => {
    // The hello goes out without waiting for the tab lock; the worker waits on the lock only once
    // told the tab holds it (`held`).
    const worker = o.openShared();
    connection = worker;
    const instance = await adopt(worker);
    void o.tabLock.then(() => worker.held());
    // The worker holds a lock named after its instance while it runs: granted to this tab, it means
    // the worker died with the tab still open (ended by the browser, crashed): start anew.
    void o.locks?.request(workerLockName(o.key, instance), () => {
      if (closed) return;
      worker.close();
      reattach();
    });
  };

  /**
   * A new worker after the one this tab used died. An attempt that fails (Firefox can hand a tab the
   * worker that is still closing, which never answers) fails the calls waiting on it, and another
   * starts a moment later, so the tab recovers once a new worker can start.
   */
  const reattach = (): void => {
    const attempt = attach();
    attached = attempt;
    attempt.catch((error: unknown) => {
      connection?.close();
      o.onError(error as TokenError);
      if (!closed) o.clock.setTimeout(reattach, REATTACH_DELAY_MS);
    });
  };

  const connect = async (): Promise<void> => {
    if (o.shared) {
      try {
        return await attach();
      } catch (error) {
        connection?.close();
        connection = null;
        if (closed || !o.fallback || error instanceof InvalidArgumentError) throw error;
        // auto: a worker that cannot start (CSP, a bad URL) falls back to local mode.
        o.mirror.setMode('local');
        o.onError(error as TokenError);
      }
    }
    // A leader starts waiting on this tab's lock as soon as it hears the hello: hold it first (and
    // load the local connection meanwhile).
    const [open] = await Promise.all([o.loadLocal(), o.tabLock]);
    if (closed) return;
    const link = open();
    connection = link;
    await adopt(link);
  };

  return {
    connected: connect(),
    async call(op, arg) {
      for (;;) {
        await attached;
        if (closed || !connection) throw closedError();
        const current = connection;
        try {
          return await current.call(op, arg);
        } catch (error) {
          if (current === connection || closed) throw error;
        }
      }
    },
    close() {
      closed = true;
      connection?.close();
    },
  };
}
