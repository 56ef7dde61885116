/**
 * The tab's connection supervision with stand-in connections and faked Web Locks: a worker that
 * dies is replaced and the call it took is asked again of the new one; a worker that cannot start
 * falls back to local mode under `auto`; a refused option does not.
 */
import { describe, expect, it } from 'vitest';
import { SnapshotMirror } from '../../client/SnapshotMirror.ts';
import { STALL_MS, superviseConnection, type SharedLink, type SuperviseOptions } from '../../client/superviseConnection.ts';
import { tabLockName, workerLockName } from '../../protocol/names.ts';
import { ConnectionError, InvalidArgumentError, type TokenError } from '../../protocol/errors.ts';
import type { Mode, Snapshot, TabHello } from '../../protocol/types.ts';
import { engineConfig } from './support/engine.ts';
import { FakeClock, flush } from './support/FakeClock.ts';
import { FakeLocks } from './support/FakeLocks.ts';

const KEY = 'tabtoken:v1::https://origin.test';
const hello: TabHello = { tabId: 'tab-1', config: engineConfig(), sessionId: null, visible: true, fetchOrigins: [] };
const snapshot = (mode: Mode, version = 3): Snapshot =>
  Object.freeze({ version, status: 'ok', mode, storage: 'memory', sessionId: 'sess_1', userId: null, claims: null, tokens: {} });

class StandIn implements SharedLink {
  readonly mode: Mode;
  closed = false;
  heldCount = 0;
  busy = false;
  /** The SharedWorker name it was opened under, and every hello it heard. */
  name = '';
  readonly hellos: TabHello[] = [];
  version = 3;
  readonly waiting: { op: string; resolve(v: unknown): void; reject(e: unknown): void }[] = [];
  constructor(
    readonly instance: string,
    mode: Mode,
    readonly refuse: unknown = null,
  ) {
    this.mode = mode;
  }
  /** A hello that is never answered (a closing worker, or one waiting for the engine lock). */
  hangs = false;
  hello = async (h: TabHello) => {
    this.hellos.push(h);
    if (this.hangs) return new Promise<never>(() => {});
    if (this.refuse) throw this.refuse;
    return { instance: this.instance, snapshot: snapshot(this.mode, this.version) };
  };
  call = (op: string) => {
    // The engine's snapshot, as the worker answers it at once.
    if (op === 'snapshot') return Promise.resolve(snapshot(this.mode, this.version)) as Promise<never>;
    return new Promise<never>((resolve, reject) => this.waiting.push({ op, resolve: resolve as (v: unknown) => void, reject }));
  };
  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new ConnectionError('closed'));
  }
  held(): void {
    this.heldCount++;
  }
}

function options(o: Partial<Omit<SuperviseOptions, 'locks'>> & { locks: FakeLocks; workers: StandIn[]; local?: StandIn }): {
  opts: SuperviseOptions;
  errors: TokenError[];
  mirror: SnapshotMirror;
} {
  const errors: TokenError[] = [];
  const mirror = new SnapshotMirror('shared');
  const { workers, local, locks, ...rest } = o;
  const queue = [...workers];
  return {
    errors,
    mirror,
    opts: {
      key: KEY,
      hello,
      mirror,
      shared: true,
      clock: new FakeClock(),
      fallback: true,
      lockTab: async () => () => {},
      page: new EventTarget(),
      onError: (e) => errors.push(e),
      ...rest,
      locks: locks.manager,
      openShared: (name) => {
        const next = queue.shift();
        if (!next) throw new ConnectionError('no worker');
        next.name = name;
        return next satisfies SharedLink;
      },
      loadLocal: async () => () => local ?? new StandIn('leader', 'local'),
    },
  };
}

/** The page's lifecycle events, as the browser fires them at the window. */
const pageEvent = (page: EventTarget, type: string, persisted?: boolean) =>
  page.dispatchEvent(Object.assign(new Event(type), persisted === undefined ? {} : { persisted }));
const stored = (page: EventTarget) => pageEvent(page, 'pagehide', true);
const back = (page: EventTarget) => pageEvent(page, 'pageshow', true);

describe('superviseConnection', () => {
  it('a worker that dies is replaced, and the call it took with it is asked again of the new one', async () => {
    const locks = new FakeLocks();
    const releaseA = await locks.hold(workerLockName(KEY, 'worker-a'));
    // The replacement runs under a name of its own, and names its lock after it.
    await locks.hold(workerLockName(`${KEY}#worker-a`, 'worker-b'));
    const a = new StandIn('worker-a', 'shared');
    const b = new StandIn('worker-b', 'shared');
    const { opts, mirror, errors } = options({ locks, workers: [a, b], lockTab: (id) => locks.hold(tabLockName(id)) });
    const link = superviseConnection(opts);
    await link.connected;
    expect(mirror.instance).toBe('worker-a');
    const call = link.call('stats', null);
    await flush();
    expect(a.waiting.map((w) => w.op)).toEqual(['stats']);
    releaseA(); // the browser ended worker A: its lock is released
    await flush();
    expect(a.closed).toBe(true);
    expect(mirror.instance).toBe('worker-b');
    expect(b.waiting.map((w) => w.op)).toEqual(['stats']);
    b.waiting[0]!.resolve('from b');
    expect(await call).toBe('from b');
    expect(errors).toEqual([]);
    // The tab keeps its one tab lock across workers, and tells the new worker it holds it.
    expect([a.heldCount, b.heldCount]).toEqual([1, 1]);
    expect(locks.isHeld(tabLockName('tab-1'))).toBe(true);
    expect(locks.waiting(tabLockName('tab-1'))).toBe(0);
    // Every tab of worker A picks the same new name: Firefox may still hand out A under the key.
    expect([a.name, b.name]).toEqual([KEY, `${KEY}#worker-a`]);
    link.close();
    expect(b.closed).toBe(true);
    await expect(link.call('stats', null)).rejects.toBeInstanceOf(ConnectionError);
  });

  it('a reattach that fails (a closing worker that never answers) fails its calls and is tried again a moment later', async () => {
    const locks = new FakeLocks();
    const clock = new FakeClock();
    const releaseA = await locks.hold(workerLockName(KEY, 'worker-a'));
    await locks.hold(workerLockName(`${KEY}#worker-a`, 'worker-b'));
    const a = new StandIn('worker-a', 'shared');
    const stuck = new StandIn('closing', 'shared', new ConnectionError('Connecting to the worker got no answer within 10 s'));
    const b = new StandIn('worker-b', 'shared');
    const { opts, mirror, errors } = options({ locks, workers: [a, stuck, b], clock });
    const link = superviseConnection(opts);
    await link.connected;
    releaseA();
    await flush();
    expect(stuck.closed).toBe(true);
    expect(errors.map((e) => e.code)).toEqual(['connection']);
    await expect(link.call('stats', null)).rejects.toBeInstanceOf(ConnectionError);
    await clock.advance(999);
    expect(mirror.instance).toBe('worker-a');
    await clock.advance(1);
    expect(mirror.instance).toBe('worker-b');
    const call = link.call('stats', null);
    await flush();
    b.waiting[0]!.resolve('recovered');
    expect(await call).toBe('recovered');
    link.close();
  });

  it('under auto, a worker that cannot start falls back to local mode and says so once', async () => {
    const locks = new FakeLocks();
    const broken = new StandIn('never', 'shared', new ConnectionError('worker-src blocked'));
    const local = new StandIn('leader', 'local');
    const { opts, mirror, errors } = options({ locks, workers: [broken], local });
    const link = superviseConnection(opts);
    await link.connected;
    expect(broken.closed).toBe(true);
    expect(mirror.snapshot.mode).toBe('local');
    expect(mirror.instance).toBe('leader');
    expect(errors.map((e) => e.code)).toEqual(['connection']);
    link.close();
  });

  it('a refused option is never a reason to fall back, and mode shared never falls back', async () => {
    const locks = new FakeLocks();
    const refused = new StandIn('w', 'shared', new InvalidArgumentError('pollIntervalMs differs'));
    const first = options({ locks, workers: [refused] });
    await expect(superviseConnection(first.opts).connected).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(first.mirror.snapshot.mode).toBe('shared');
    const down = new StandIn('w', 'shared', new ConnectionError('no answer'));
    const second = options({ locks, workers: [down], fallback: false });
    await expect(superviseConnection(second.opts).connected).rejects.toBeInstanceOf(ConnectionError);
  });

  it('closed while it loads local mode, it starts no local connection', async () => {
    const locks = new FakeLocks();
    let opened = 0;
    const { opts } = options({ locks, workers: [] });
    const link = superviseConnection({
      ...opts,
      shared: false,
      loadLocal: async () => () => {
        opened++;
        return new StandIn('leader', 'local');
      },
    });
    link.close();
    await link.connected;
    expect(opened).toBe(0);
  });

  describe('page lifecycle (SPEC 6)', () => {
    /** Tab locks taken through the fake Web Locks, so a test sees which tab id holds one. */
    const lockTab = (locks: FakeLocks) => (tabId: string) => locks.hold(tabLockName(tabId));
    /** The link with a mirror that resyncs through it when the page goes away: as createTokenManager wires them. */
    const wired = (opts: SuperviseOptions) => {
      let link: ReturnType<typeof superviseConnection> | null = null;
      const mirror = new SnapshotMirror('shared', () => link!.call('snapshot', null));
      // Reads wait for the engine's snapshot, asked for as the page goes and sent once it is back.
      link = superviseConnection({ ...opts, mirror, away: () => mirror.resync() });
      return { link, mirror, detach: () => stored(opts.page!) };
    };

    it('stored with a reply still due on its port, the tab lets go of the lock and the port; back, it is counted under a new tab lock on a new port', async () => {
      const locks = new FakeLocks();
      await locks.hold(workerLockName(KEY, 'worker-a'));
      const a = new StandIn('worker-a', 'shared');
      const b = new StandIn('worker-a', 'shared');
      const { opts } = options({ locks, workers: [a, b], lockTab: lockTab(locks) });
      const { link, mirror, detach } = wired(opts);
      await link.connected;
      await flush();
      expect(locks.isHeld(tabLockName('tab-1'))).toBe(true);
      const inFlight = link.call('stats', null);
      a.busy = true; // the worker owes the port a reply: it would reach the stored page
      detach();
      await flush();
      expect(locks.isHeld(tabLockName('tab-1'))).toBe(false);
      expect(a.closed).toBe(true);
      expect(mirror.resyncing).not.toBeNull(); // reads wait
      const whileStored = link.call('stats', null);
      await flush();
      expect(b.hellos).toEqual([]); // nothing goes anywhere while stored
      back(opts.page!);
      await flush();
      const [h] = b.hellos;
      expect(h!.tabId).not.toBe('tab-1');
      expect(locks.isHeld(tabLockName(h!.tabId))).toBe(true);
      expect(b.name).toBe(KEY);
      expect(mirror.resyncing).toBeNull();
      // Both calls go to the new port: the one cut off by the detach, and the one made while stored.
      expect(b.waiting.map((w) => w.op)).toEqual(['stats', 'stats']);
      for (const w of b.waiting) w.resolve('b');
      expect([await inFlight, await whileStored]).toEqual(['b', 'b']);
      link.close();
    });

    it("stored with nothing due, the port is kept; back, the worker's snapshot is adopted first, then the tab is counted again without switching the session", async () => {
      const locks = new FakeLocks();
      await locks.hold(workerLockName(KEY, 'worker-a'));
      const a = new StandIn('worker-a', 'shared');
      const { opts } = options({ locks, workers: [a], lockTab: lockTab(locks), hello: { ...hello, sessionId: 'sess_1' } });
      const { link, mirror, detach } = wired(opts);
      await link.connected;
      await flush();
      detach();
      await flush();
      expect(a.closed).toBe(false);
      expect(locks.isHeld(tabLockName('tab-1'))).toBe(false);
      a.version = 9; // the worker moved on while the page was stored
      const lockedAtHello: boolean[] = [];
      const plain = a.hello;
      a.hello = async (h: TabHello) => {
        lockedAtHello.push(locks.isHeld(tabLockName(h.tabId)));
        return plain(h);
      };
      let shown = -1;
      const read = mirror.resyncing!.then(() => (shown = mirror.snapshot.version));
      back(opts.page!);
      await read;
      expect(shown).toBe(9);
      await flush();
      const again = a.hellos.at(-1)!;
      expect(again.tabId).not.toBe('tab-1');
      expect(again.sessionId).toBeNull();
      expect(lockedAtHello).toEqual([true]);
      expect(a.heldCount).toBe(1); // the port reported `held` once: the worker waits on each new lock at once
      link.close();
    });

    it('a local-mode tab closes its connection when stored (a leader hands over) and opens a new one when back', async () => {
      const locks = new FakeLocks();
      const connections: StandIn[] = [];
      const { opts, mirror } = options({ locks, workers: [], lockTab: lockTab(locks) });
      const link = superviseConnection({
        ...opts,
        shared: false,
        loadLocal: async () => () => {
          const c = new StandIn(`leader-${connections.length}`, 'local');
          connections.push(c);
          return c;
        },
      });
      await link.connected;
      stored(opts.page!);
      expect(connections[0]!.closed).toBe(true);
      back(opts.page!);
      await flush();
      expect(connections).toHaveLength(2);
      expect(connections[1]!.hellos[0]!.tabId).not.toBe('tab-1');
      expect(mirror.instance).toBe('leader-1');
      link.close();
    });

    it('a pagehide that is not going into the cache lets go of nothing; freeze and resume detach and reattach like pagehide and pageshow', async () => {
      const locks = new FakeLocks();
      await locks.hold(workerLockName(KEY, 'worker-a'));
      const a = new StandIn('worker-a', 'shared');
      const { opts } = options({ locks, workers: [a], lockTab: lockTab(locks) });
      const link = superviseConnection(opts);
      await link.connected;
      await flush();
      pageEvent(opts.page!, 'pagehide', false); // unloading for good: the browser releases what the page held
      expect(link.detached).toBe(false);
      pageEvent(opts.page!, 'freeze');
      await flush();
      expect(link.detached).toBe(true);
      expect(locks.isHeld(tabLockName('tab-1'))).toBe(false);
      pageEvent(opts.page!, 'resume');
      await flush();
      expect(link.detached).toBe(false);
      expect(a.hellos.at(-1)!.tabId).not.toBe('tab-1');
      link.close();
      pageEvent(opts.page!, 'freeze'); // closed: the listeners are gone
      expect(link.detached).toBe(false);
    });

    it('a worker that dies while the page is stored is replaced when the page is back, under the new name', async () => {
      const locks = new FakeLocks();
      const releaseA = await locks.hold(workerLockName(KEY, 'worker-a'));
      await locks.hold(workerLockName(`${KEY}#worker-a`, 'worker-b'));
      const a = new StandIn('worker-a', 'shared');
      const b = new StandIn('worker-b', 'shared');
      const { opts, mirror } = options({ locks, workers: [a, b], lockTab: lockTab(locks) });
      const link = superviseConnection(opts);
      await link.connected;
      stored(opts.page!);
      expect(locks.waiting(workerLockName(KEY, 'worker-a'))).toBe(0); // the watch is withdrawn while stored
      releaseA();
      await flush();
      // Nothing runs in the stored page: the death is found when it is back.
      expect(a.closed).toBe(false);
      expect(b.hellos).toEqual([]);
      back(opts.page!);
      await flush();
      expect(b.name).toBe(`${KEY}#worker-a`);
      expect(mirror.instance).toBe('worker-b');
      link.close();
    });
  });

  it('a hello unanswered for a while looks for the worker that runs the engine, by the lock it holds, and moves there', async () => {
    const locks = new FakeLocks();
    const clock = new FakeClock();
    // The tabs of a worker that died run on a worker named after it; a worker started under the key
    // waits for the engine lock and does not answer.
    await locks.hold(workerLockName(`${KEY}#dead`, 'live'));
    const waiting = new StandIn('never', 'shared');
    waiting.hangs = true;
    const live = new StandIn('live', 'shared');
    const { opts, mirror } = options({ locks, workers: [waiting, live], clock });
    const link = superviseConnection(opts);
    await clock.advance(STALL_MS - 1);
    expect(live.hellos).toEqual([]);
    await clock.advance(1);
    await link.connected;
    expect(waiting.closed).toBe(true);
    expect(live.name).toBe(`${KEY}#dead`);
    expect(mirror.instance).toBe('live');
    link.close();
  });
});
