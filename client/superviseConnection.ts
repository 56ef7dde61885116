/**
 * The tab's link to the engine, kept up for the tab's lifetime: it connects (SharedWorker, or the
 * leader tab in local mode), falls back to local mode under `mode: 'auto'` when the worker cannot
 * start, starts a new worker when the one it was connected to dies, lets go while the page is stored
 * in the back/forward cache or frozen, and sends each call to the connection that is up — asking
 * again of the replacement a call the dead worker took with it:
 *
 *   tab     getToken ──► worker A ✕ (ended)   reattach ─► worker B ──► getToken ──► token
 *
 * The page lifecycle (SPEC 6), shared mode:
 *
 *   pagehide ── release tab lock ─ (reply due? close the port) ───── stored: nothing held, nothing due
 *   pageshow ── calls go on (the mirror's resync first) ─ new tab lock ─ hello: counted again
 *
 * Loaded by createTokenManager while the first hello is on its way (that hello is handed over as
 * `first`), so none of this is on the path of a new tab's first token nor in the client entry.
 */
import { randomId } from '../protocol/randomId.ts';
import { workerLockName } from '../protocol/names.ts';
import { InvalidArgumentError, type TokenError } from '../protocol/errors.ts';
import type { Clock } from '../protocol/clock.ts';
import type { Operation, Operations } from '../protocol/operations.ts';
import type { TabHello, Welcome } from '../protocol/types.ts';
import { closedError, type Connection } from './Connection.ts';
import type { SnapshotMirror } from './SnapshotMirror.ts';

/** A shared-mode connection: a `Connection` that can tell the worker the tab holds its lock. */
export interface SharedLink extends Connection {
  held(): void;
  /** Whether the worker still owes this port a reply (a call or the hello in flight). */
  readonly busy: boolean;
}

export interface SuperviseOptions {
  /** The worker key: the first worker's name; its lock is named after its name and instance. */
  key: string;
  /** The first attachment's hello; each later one sends it again with a tab id of its own. */
  hello: TabHello;
  mirror: SnapshotMirror;
  /** `shared`: try the SharedWorker first; `fallback`: go local when it cannot start (mode `auto`). */
  shared: boolean;
  fallback: boolean;
  onError(error: TokenError): void;
  /** Web Locks; the worker-death watch needs them. */
  locks: LockManager | undefined;
  /** Times the retry of a reattach that failed. */
  clock: Clock;
  /** Takes the tab's Web Lock `tabtoken:tab:{id}`; resolves, once held, with its release. */
  lockTab(tabId: string): Promise<() => void>;
  /** Connects to the SharedWorker called `name`; throws `ConnectionError` when the browser refuses to start it. */
  openShared(name: string, tabId: string): SharedLink;
  /**
   * The worker the tab connected to before this code loaded, and its answer to the hello already
   * sent (createTokenManager.ts: the hello goes out first, this module loads meanwhile).
   */
  first?: { worker: SharedLink; welcome: Promise<Welcome> };
  /** Loads local mode (a separate chunk); what it resolves with connects through it. */
  loadLocal(): Promise<(tabId: string) => Connection>;
}

export interface Supervised {
  /** Resolves once connected with the whole snapshot in the mirror; rejects like `ready`. */
  readonly connected: Promise<void>;
  call<K extends Operation>(op: K, arg: Operations[K][0]): Promise<Operations[K][1]>;
  /**
   * The page goes into the back/forward cache, or is frozen: the tab lets go of its tab lock (the
   * engine stops counting it), of the worker's port when a reply is still due on it, and in local
   * mode of its whole connection (a leader hands over); calls wait for `reattach`.
   */
  detach(): void;
  /** The page is back: a new tab lock, and the engine's current snapshot in the mirror. */
  reattach(): void;
  close(): void;
}

/** How long a tab waits before it tries again to start a worker, after an attempt that failed. */
export const REATTACH_DELAY_MS = 1000;

/**
 * How long a hello may go unanswered before the tab looks for the worker that runs the engine. A
 * worker runs the engine only while it holds the engine lock, so a worker started under the key's
 * name after the tabs moved to another (below) waits, and a closing worker that Firefox still hands
 * out never answers: the running worker's lock names it.
 */
export const STALL_MS = 1000;

/**
 * @example
 * const link = superviseConnection({ key, hello, mirror, shared: true, fallback: true, onError, locks, clock, lockTab, openShared, loadLocal });
 * await link.connected;
 * await link.call('getToken', request);
 */
export function superviseConnection(o: SuperviseOptions): Supervised {
  let connection: Connection | null = null;
  let closed = false;
  let detached = false;
  /** The name of the SharedWorker to reach: the key, until a worker dies with tabs open. */
  let name = o.key;
  let tabId = o.hello.tabId;
  /** The current attachment's tab lock. */
  let tabLock: Promise<() => void> | undefined;
  /** Settles once a connection is up: the first, or the next one after the worker died or the page came back. */
  let attached: Promise<unknown> = Promise.resolve();
  let resume: (value?: unknown) => void = () => {};
  /**
   * Connections let go of while the page is stored, kept referenced until it is back: comlink's
   * proxies of a connection that is garbage would be cleaned up in the stored page (SharedConnection.ts).
   */
  let retired: unknown[] = [];
  const retire = (link: Connection | null) => {
    link?.close();
    retired.push(link);
    if (connection === link) connection = null;
  };

  const lock = () => (tabLock = o.lockTab(tabId));

  const hello = (link: Connection) => link.hello({ ...o.hello, tabId }, o.onError);
  const adopt = async (answer: Promise<Welcome>) => {
    const welcome = await answer;
    o.mirror.adopt(welcome.instance, welcome.snapshot);
    return welcome.instance;
  };

  /** The name of the worker that runs the engine now, from the lock it holds while it runs (worker/engineLock.ts). */
  const running = async (): Promise<string | undefined> => {
    for (const { name: held = '' } of (await o.locks?.query())?.held ?? []) {
      const worker = held.slice(0, held.lastIndexOf(':worker:'));
      if (worker === o.key || worker.startsWith(`${o.key}#`)) return worker;
    }
    return undefined;
  };

  /** Waits on the worker's lock: granted, the worker died with this tab still open. */
  const watch = (worker: Connection, instance: string) =>
    o.locks?.request(workerLockName(name, instance), () => {
      if (closed || connection !== worker) return;
      // A worker of a new name: Firefox can hand out the closing worker under the old one for
      // seconds, and it never answers. Every tab of the dead worker picks the same new name.
      name = `${o.key}#${instance}`;
      retire(worker);
      // Stored meanwhile: `reattach` starts the new worker.
      if (!detached) start();
    });

  const attach = async (first?: SuperviseOptions['first'], held = lock()): Promise<void> => {
    // The hello goes out first; the worker waits on the tab lock only once told the tab holds it
    // (`held`). A hello unanswered for a while may have reached a worker that is not the one
    // running the engine (STALL_MS): the tab moves to the one that is.
    const worker = (connection = first?.worker ?? o.openShared(name, tabId));
    const welcome = adopt(first?.welcome ?? hello(worker));
    let timer: unknown;
    const elsewhere = await Promise.race([welcome.then(() => ''), new Promise<string | undefined>((found) => (timer = o.clock.setTimeout(() => found(running()), STALL_MS)))]);
    o.clock.clearTimeout(timer);
    if (elsewhere && elsewhere !== name && connection === worker) {
      name = elsewhere;
      retire(worker);
      return attach(undefined, held);
    }
    const instance = await welcome;
    void held.then(() => worker.held());
    void watch(worker, instance);
  };

  const local = async (held = lock()): Promise<void> => {
    // A leader starts waiting on this tab's lock as soon as it hears the hello: hold it first (and
    // load the local connection meanwhile).
    const [open] = await Promise.all([o.loadLocal(), held]);
    if (!closed) await adopt(hello((connection = open(tabId))));
  };

  /**
   * A connection anew: after the worker died, or when the page is back without one. An attempt that
   * fails fails the calls waiting on it, and another starts a moment later, so the tab recovers once
   * a worker can start.
   */
  const start = (): void => {
    const attempt = (attached = o.shared ? attach() : local());
    attempt.catch((error: unknown) => {
      // An attempt another has replaced since (the page was stored, or is back) is left alone.
      if (closed || attached !== attempt) return;
      retire(connection);
      o.onError(error as TokenError);
      o.clock.setTimeout(() => attached === attempt && start(), REATTACH_DELAY_MS);
    });
  };

  const connect = async (): Promise<void> => {
    if (o.shared) {
      try {
        return await attach(o.first);
      } catch (error) {
        retire(connection);
        if (closed || !o.fallback || error instanceof InvalidArgumentError) throw error;
        // auto: a worker that cannot start (CSP, a bad URL) falls back to local mode.
        o.shared = false;
        o.mirror.setMode('local');
        o.onError(error as TokenError);
      }
    }
    // The lock the worker's attempt took, if it did.
    await local(tabLock);
  };

  return {
    connected: connect(),
    async call(op, arg) {
      for (;;) {
        const waiting = attached;
        const failed = await waiting.then(() => null, (error: unknown) => [error]);
        // Another attempt started meanwhile (the worker died, the page was stored or is back): wait for it.
        if (waiting !== attached) continue;
        // A failed attempt fails its calls.
        if (failed) throw failed[0];
        if (closed || !connection) throw closedError();
        const current = connection;
        try {
          return await current.call(op, arg);
        } catch (error) {
          if (current === connection || closed) throw error;
        }
      }
    },
    detach() {
      // Before the first welcome there is nothing to hand back: the page is left as it is.
      if (detached || closed || !o.mirror.instance) return;
      detached = true;
      attached = new Promise((r) => (resume = r));
      void tabLock?.then((release) => release());
      // A reply still due would reach the stored page; a local connection holds channels (and, when
      // it leads, the leader lock another tab is waiting for).
      if (!o.shared || (connection as SharedLink | null)?.busy) retire(connection);
    },
    reattach() {
      if (!detached || closed) return;
      detached = false;
      retired = [];
      tabId = randomId();
      const kept = connection;
      // The same worker on the same port: calls go on at once (the mirror's resync first), and the
      // tab is counted again under a new tab lock — held before the hello, since this port reported
      // `held` already. Not the session the tab was created with: another tab may have switched it.
      if (kept) void lock().then(() => kept.hello({ ...o.hello, tabId, sessionId: null }, o.onError)).catch(() => {});
      else start();
      resume();
    },
    close() {
      closed = true;
      connection?.close();
      void tabLock?.then((release) => release());
    },
  };
}
