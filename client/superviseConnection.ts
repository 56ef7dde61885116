/**
 * The tab's link to the engine, kept up for the tab's lifetime: it connects (SharedWorker, or the
 * leader tab in local mode), falls back to local mode under `mode: 'auto'` when the worker cannot
 * start, starts a new worker when the one it was connected to dies, and sends each call to the
 * connection that is up — asking again of the replacement a call the dead worker took with it:
 *
 *   tab     getToken ──► worker A ✕ (ended)   reattach ─► worker B ──► getToken ──► token
 */
import { workerLockName } from '../protocol/constants.ts';
import { ConnectionError, InvalidArgumentError, type TokenError } from '../protocol/errors.ts';
import type { Operation, Operations } from '../protocol/operations.ts';
import type { TabHello } from '../protocol/types.ts';
import type { Connection } from './Connection.ts';
import type { SnapshotMirror } from './SnapshotMirror.ts';

/** A shared-mode connection: a `Connection` that can tell the worker the tab holds its lock. */
export interface SharedLink extends Connection {
  held(): void;
}

/** A local-mode connection: it follows leaders as they announce themselves. */
export interface LocalLink extends Connection {
  onLeaderHello(instance: string, snapshot: unknown): void;
}

export interface SuperviseOptions {
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
  /** Throws `ConnectionError` when the browser refuses to start the worker. */
  openShared(): SharedLink;
  /** Loads local mode (a separate chunk); what it resolves with connects through it. */
  loadLocal(): Promise<() => LocalLink>;
}

export interface Supervised {
  /** Resolves once connected with the whole snapshot in the mirror; rejects like `ready`. */
  readonly connected: Promise<void>;
  call<K extends Operation>(op: K, arg: Operations[K][0]): Promise<Operations[K][1]>;
  /** A leader announced itself on the channel (local mode). */
  leaderHello(instance: string, snapshot: unknown): void;
  close(): void;
}

/** What every call of a closed manager rejects with. */
export const closedError = () => new ConnectionError('The token manager was closed');

/**
 * @example
 * const link = superviseConnection({ hello, mirror, shared: true, fallback: true, tabLock, onError, locks, openShared, loadLocal });
 * await link.connected;
 * await link.call('getToken', request);
 */
export function superviseConnection(o: SuperviseOptions): Supervised {
  let connection: Connection | null = null;
  let local: LocalLink | null = null;
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
    void o.locks?.request(workerLockName(instance), () => {
      if (closed) return;
      worker.close();
      attached = attach();
      attached.catch(o.onError);
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
    local = connection = link;
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
    leaderHello: (instance, snapshot) => local?.onLeaderHello(instance, snapshot),
    close() {
      closed = true;
      connection?.close();
    },
  };
}
