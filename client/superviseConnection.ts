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
 * Loaded by createTokenManager once the tab is ready (or at once when it has no worker's welcome to
 * wait for), with the first worker handed over as `first`: none of this is on the path of a new
 * tab's first token, nor in the client entry.
 */
import { randomId } from '../protocol/randomId.ts';
import { workerLockName } from '../protocol/names.ts';
import { InvalidArgumentError, type TokenError } from '../protocol/errors.ts';
import { systemClock, type Clock } from '../protocol/clock.ts';
import type { Operation, Operations } from '../protocol/operations.ts';
import type { TabHello, Welcome } from '../protocol/types.ts';
import { closedError, STALL_MS, type Connection } from './Connection.ts';
import { holdTabLock } from './tabLock.ts';
import type { SnapshotMirror } from './SnapshotMirror.ts';
import { SharedConnection } from './SharedConnection.ts';
import { type SharedLink, sharedLink } from './sharedLink.ts';

export type { SharedLink };

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
  /** Web Locks, which the worker-death watch needs; default the page's. */
  locks?: LockManager;
  /** Times the retry of a reattach that failed; default the system clock. */
  clock?: Clock;
  /**
   * Takes the tab's Web Lock `tabtoken:tab:{id}`, held while the tab is attached (the engine waits
   * on it to learn that the tab is gone); resolves, once held, with its release. Default: the page's.
   */
  lockTab?(tabId: string): Promise<() => void>;
  /** Where the worker script is served (the `workerUrl` option); null: bundled with the client. */
  workerUrl?: URL | null;
  /**
   * Connects to the SharedWorker called `name`; throws `ConnectionError` when the browser refuses to
   * start it. Default: a `SharedConnection` of `workerUrl`, called through comlink (sharedLink.ts).
   */
  openShared?(name: string, tabId: string): SharedLink;
  /**
   * The worker the tab connected to before this code loaded, the instance it answered the hello
   * with once its welcome is adopted, and the tab lock (createTokenManager.ts sends the hello first,
   * takes the lock, tells the worker it holds it and adopts the welcome itself, so that neither a new
   * tab's first token nor the worker's watch on the tab waits for this code).
   */
  first?: First<SharedConnection>;
  /**
   * Loads local mode (a separate chunk); what it resolves with connects through it. Default: the
   * engine in this tab or its leader (LocalConnection.ts) for the hello's config.
   */
  loadLocal?(): Promise<(tabId: string) => Connection>;
  /** The page goes into the back/forward cache or is frozen (after the link let go); and is back (before it reattaches). */
  away?(): void;
  back?(): void;
  /** Where the page's lifecycle events are heard (`pagehide`, `freeze`, `pageshow`, `resume`); default the window. */
  page?: EventTarget;
}

/** A worker said hello to before the supervision loaded: its welcome's instance, and the tab lock taken meanwhile. */
export interface First<Worker> {
  worker: Worker;
  welcome: Promise<string>;
  held: Promise<() => void>;
}

export interface Supervised {
  /** Resolves once connected with the whole snapshot in the mirror; rejects like `ready`. */
  readonly connected: Promise<void>;
  /** The page is in the back/forward cache or frozen: reads wait for the engine's snapshot. */
  readonly detached: boolean;
  call<K extends Operation>(op: K, arg: Operations[K][0]): Promise<Operations[K][1]>;
  close(): void;
}

const LIFECYCLE = ['pagehide', 'freeze', 'pageshow', 'resume'];

/** How long a tab waits before it tries again to start a worker, after an attempt that failed. */
export const REATTACH_DELAY_MS = 1000;

export { STALL_MS };

/**
 * @example
 * const link = superviseConnection({ key, hello, mirror, shared: true, fallback: true, onError, locks, clock, lockTab, openShared, loadLocal });
 * await link.connected;
 * await link.call('getToken', request);
 */
export function superviseConnection(o: SuperviseOptions): Supervised {
  const {
    locks = globalThis.navigator?.locks,
    clock = systemClock,
    openShared = (worker: string, id: string) => sharedLink(new SharedConnection(worker, o.workerUrl ?? null, id, clock)),
    loadLocal = async () => {
      const { LocalConnection } = await import('./LocalConnection.ts');
      return (id: string) => new LocalConnection(o.hello.config, id, o.key, o.mirror);
    },
  } = o;
  let connection: Connection | null = null;
  let closed = false;
  let detached = false;
  /** Shared mode, until `auto` falls back to local mode for good. */
  let shared = o.shared;
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

  /** The tab lock of this tab id: taken once, kept across workers, and a new one after each reattach. */
  let lockedId = '';
  /** Takes `held` (or asks for a new lock) as the tab lock of the current tab id. */
  const keep = (held?: Promise<() => void>): Promise<() => void> => {
    lockedId = tabId;
    tabLock = held ?? (o.lockTab ?? holdTabLock)(tabId);
    return tabLock;
  };
  const lock = () => (lockedId === tabId ? tabLock! : keep());

  const hello = (link: Connection) => link.hello({ ...o.hello, tabId }, o.onError);
  const adopt = async (answer: Promise<Welcome>) => {
    const welcome = await answer;
    o.mirror.adopt(welcome.instance, welcome.snapshot);
    return welcome.instance;
  };

  /** The name of the worker that runs the engine now, from the lock it holds while it runs (worker/engineLock.ts). */
  const running = async (): Promise<string | undefined> => {
    for (const { name: held = '' } of (await locks?.query())?.held ?? []) {
      const worker = held.slice(0, held.lastIndexOf(':worker:'));
      if (worker === o.key || worker.startsWith(`${o.key}#`)) return worker;
    }
    return undefined;
  };

  /**
   * Waits on the worker's lock: granted, the worker died with this tab still open. Withdrawn while
   * the page is stored (a grant would run this in the stored page, which the browser evicts for) and
   * asked again when it is back (`rewatch`), granted at once if the worker died meanwhile.
   */
  const watch = (worker: Connection, instance: string, lockName = workerLockName(name, instance)): void => {
    const withdraw = new AbortController();
    stopWatching = () => withdraw.abort();
    rewatch = () => watch(worker, instance, lockName);
    locks
      ?.request(lockName, { signal: withdraw.signal }, () => {
        if (closed || connection !== worker) return;
        // A successor of a name of its own: the key's name can still reach the dead worker while the
        // browser closes it (Firefox: it never answers). Every tab of the dead worker picks the same.
        name = `${o.key}#${instance}`;
        retire(worker);
        start();
      })
      .catch(() => {});
  };
  let stopWatching = (): void => {};
  let rewatch = (): void => {};

  /**
   * Says hello to the worker called `name` (or takes the first one's answer). The worker waits on the
   * tab lock only once told the tab holds it (`held`). A hello unanswered for a while may have reached
   * a worker that does not run the engine — one started under the key after a worker died and its
   * tabs moved to its successor's name: it waits for the engine lock (worker/engineLock.ts), so two
   * never refresh at once — and the lock of the worker that does names it:
   *
   *   worker A (key) ✕ ── its tabs ─────────────► key#A
   *   new tab ── key: no answer ── STALL_MS ── running: key#A ──► key#A
   */
  const attach = async (first?: First<SharedLink>, held = first ? keep(first.held) : lock()): Promise<void> => {
    const worker = first?.worker ?? openShared(name, tabId);
    connection = worker;
    const welcome = first?.welcome ?? adopt(hello(worker));
    let timer: unknown;
    // Handed the first hello, the supervision has loaded because it went unanswered (or because a
    // worker of another name runs): it looks at once.
    const found = await Promise.race([
      welcome.then(() => ''),
      new Promise<string | undefined>((r) => (timer = clock.setTimeout(() => r(running()), first ? 0 : STALL_MS))),
    ]);
    clock.clearTimeout(timer);
    if (found && found !== name && connection === worker) {
      name = found;
      retire(worker);
      return attach(undefined, held);
    }
    const instance = await welcome;
    // The first worker was told `held` by createTokenManager; it hears the error callback now.
    if (first) void worker.hello({ ...o.hello, tabId, sessionId: null }, o.onError).catch(() => {});
    else void held.then(() => worker.held());
    watch(worker, instance);
  };

  const local = async (held = lock()): Promise<void> => {
    // A leader starts waiting on this tab's lock as soon as it hears the hello: hold it first (and
    // load the local connection meanwhile).
    const [open] = await Promise.all([loadLocal(), held]);
    if (closed) return;
    connection = open(tabId);
    await adopt(hello(connection));
  };

  /**
   * A connection anew: after the worker died, or when the page is back without one. An attempt that
   * fails fails the calls waiting on it, and another starts a moment later, so the tab recovers once
   * a worker can start.
   */
  const start = (): void => {
    const attempt = shared ? attach() : local();
    attached = attempt;
    attempt.catch((error: unknown) => {
      // An attempt another has replaced since (the page was stored, or is back) is left alone.
      if (closed || attached !== attempt) return;
      retire(connection);
      o.onError(error as TokenError);
      clock.setTimeout(() => attached === attempt && start(), REATTACH_DELAY_MS);
    });
  };

  const connect = async (): Promise<void> => {
    if (shared) {
      try {
        return await attach(o.first && { ...o.first, worker: sharedLink(o.first.worker) });
      } catch (error) {
        retire(connection);
        if (closed || !o.fallback || error instanceof InvalidArgumentError) throw error;
        // auto: a worker that cannot start (CSP, a bad URL) falls back to local mode.
        shared = false;
        o.mirror.setMode('local');
        o.onError(error as TokenError);
      }
    }
    // The lock the worker's attempt took, if it did.
    await local(tabLock);
  };

  const link: Supervised = {
    connected: connect(),
    async call(op, arg) {
      for (;;) {
        const waiting = attached;
        const failed = await waiting.then(
          () => null,
          (error: unknown) => [error],
        );
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
    get detached() {
      return detached;
    },
    close() {
      closed = true;
      connection?.close();
      void tabLock?.then((release) => release());
      for (const type of LIFECYCLE) page.removeEventListener?.(type, lifecycle, true);
    },
  };

  /**
   * The page goes into the back/forward cache, or is frozen: the tab lets go of its tab lock (the
   * engine stops counting it), of its wait on the worker's lock, of the worker's port when a reply is
   * still due on it, and in local mode of its whole connection (a leader hands over); calls wait.
   */
  function detach(): void {
    // Before the first welcome there is nothing to hand back: the page is left as it is.
    if (detached || closed || !o.mirror.instance) return;
    detached = true;
    attached = new Promise((r) => (resume = r));
    stopWatching();
    void tabLock?.then((release) => release());
    // A reply still due would reach the stored page; a local connection holds channels (and, when
    // it leads, the leader lock another tab is waiting for).
    if (!shared || (connection as SharedLink | null)?.busy) retire(connection);
    o.away?.();
  }

  /** The page is back: a new tab lock, the worker watched again, calls (the mirror's resync first) go on. */
  function reattach(): void {
    if (!detached || closed) return;
    detached = false;
    retired = [];
    tabId = randomId();
    o.back?.();
    const kept = connection;
    // The same worker on the same port: calls go on at once (the mirror's resync first), and the tab
    // is counted again under a new tab lock — held before the hello, since this port reported `held`
    // already. Not the session the tab was created with: another tab may have switched it.
    if (kept) {
      rewatch();
      void lock()
        .then(() => kept.hello({ ...o.hello, tabId, sessionId: null }, o.onError))
        .catch(() => {});
    } else start();
    resume();
  }

  /**
   *   pagehide(persisted) / freeze ──► detach      pageshow(persisted) / resume ──► reattach
   *   a read in between (even in the app's first pageshow listener) ──► waits for the snapshot
   */
  function lifecycle(event: Event): void {
    if ((event as PageTransitionEvent).persisted === false) return;
    if (event.type === 'pagehide' || event.type === 'freeze') detach();
    else reattach();
  }
  // `freeze` and `resume` are fired at the document and do not bubble: the window hears them while capturing.
  const page: EventTarget = o.page ?? globalThis;
  for (const type of LIFECYCLE) page.addEventListener?.(type, lifecycle, true);

  return link;
}
