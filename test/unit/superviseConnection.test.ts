/**
 * The tab's connection supervision with stand-in connections and faked Web Locks: a worker that
 * dies is replaced and the call it took is asked again of the new one; a worker that cannot start
 * falls back to local mode under `auto`; a refused option does not.
 */
import { describe, expect, it } from 'vitest';
import { SnapshotMirror } from '../../client/SnapshotMirror.ts';
import { superviseConnection, type SharedLink, type SuperviseOptions } from '../../client/superviseConnection.ts';
import { workerLockName } from '../../protocol/names.ts';
import { ConnectionError, InvalidArgumentError, type TokenError } from '../../protocol/errors.ts';
import type { Mode, Snapshot, TabHello } from '../../protocol/types.ts';
import { engineConfig } from './support/engine.ts';
import { FakeClock, flush } from './support/FakeClock.ts';
import { FakeLocks } from './support/FakeLocks.ts';

const KEY = 'tabtoken:v1::https://origin.test';
const hello: TabHello = { tabId: 'tab-1', config: engineConfig(), sessionId: null, visible: true, fetchOrigins: [] };
const snapshot = (mode: Mode, version = 3): Snapshot => Object.freeze({ version, status: 'ok', mode, storage: 'memory', sessionId: 'sess_1', userId: null, claims: null, tokens: {} });

class StandIn implements SharedLink {
  readonly mode: Mode;
  closed = false;
  heldCount = 0;
  readonly waiting: { op: string; resolve(v: unknown): void; reject(e: unknown): void }[] = [];
  constructor(readonly instance: string, mode: Mode, readonly refuse: unknown = null) {
    this.mode = mode;
  }
  hello = async () => {
    if (this.refuse) throw this.refuse;
    return { instance: this.instance, snapshot: snapshot(this.mode) };
  };
  call = (op: string) => new Promise<never>((resolve, reject) => this.waiting.push({ op, resolve: resolve as (v: unknown) => void, reject }));
  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new ConnectionError('closed'));
  }
  held(): void {
    this.heldCount++;
  }
}

function options(o: Partial<Omit<SuperviseOptions, 'locks'>> & { locks: FakeLocks; workers: StandIn[]; local?: StandIn }): { opts: SuperviseOptions; errors: TokenError[]; mirror: SnapshotMirror } {
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
      tabLock: Promise.resolve(),
      onError: (e) => errors.push(e),
      ...rest,
      locks: locks.manager,
      openShared: () => {
        const next = queue.shift();
        if (!next) throw new ConnectionError('no worker');
        return next satisfies SharedLink;
      },
      loadLocal: async () => () => local ?? new StandIn('leader', 'local'),
    },
  };
}

describe('superviseConnection', () => {
  it('a worker that dies is replaced, and the call it took with it is asked again of the new one', async () => {
    const locks = new FakeLocks();
    const releaseA = await locks.hold(workerLockName(KEY, 'worker-a'));
    await locks.hold(workerLockName(KEY, 'worker-b'));
    const a = new StandIn('worker-a', 'shared');
    const b = new StandIn('worker-b', 'shared');
    const { opts, mirror, errors } = options({ locks, workers: [a, b] });
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
    expect([a.heldCount, b.heldCount]).toEqual([1, 1]);
    link.close();
    expect(b.closed).toBe(true);
    await expect(link.call('stats', null)).rejects.toBeInstanceOf(ConnectionError);
  });

  it('a reattach that fails (a closing worker that never answers) fails its calls and is tried again a moment later', async () => {
    const locks = new FakeLocks();
    const clock = new FakeClock();
    const releaseA = await locks.hold(workerLockName(KEY, 'worker-a'));
    await locks.hold(workerLockName(KEY, 'worker-b'));
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
    const link = superviseConnection({ ...opts, shared: false, loadLocal: async () => () => (opened++, new StandIn('leader', 'local')) });
    link.close();
    await link.connected;
    expect(opened).toBe(0);
  });
});
