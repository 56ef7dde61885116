/**
 * Local mode's election and rpc on fake time: Web Locks faked (Node has none), BroadcastChannel
 * real (Node's), the engine replaced by a stand-in so only the connection's own logic runs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalConnection, type LocalDeps } from '../../client/LocalConnection.ts';
import { SnapshotMirror } from '../../client/SnapshotMirror.ts';
import { leaderLockName, rpcChannelName, workerKey } from '../../protocol/names.ts';
import { ConnectionError } from '../../protocol/errors.ts';
import type { Engine, EngineStats } from '../../protocol/types.ts';
import type { LocalHost } from '../../worker/localHost.ts';
import type { Operation, Operations } from '../../protocol/operations.ts';
import { engineConfig } from './support/engine.ts';
import { FakeClock, flush } from './support/FakeClock.ts';
import { FakeLocks } from './support/FakeLocks.ts';

const config = engineConfig({ namespace: 'unit-local' });
const NAME = workerKey(config);
const LEADER = leaderLockName(NAME);
const STATS: EngineStats = { tabs: 1, mints: 7, requests: { mint: 7, client: 1, end: 0, failed: 0 }, refreshes: { background: 6, foreground: 1 } };

const open: { close(): void }[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

function standIn(instance: string): (config: unknown) => LocalHost {
  return () => ({
    instance,
    engine: { stats: () => STATS } as unknown as Engine,
    hello: async () => ({
      instance,
      snapshot: Object.freeze({ version: 0, status: 'ok', mode: 'local', storage: 'memory', sessionId: 'sess_1', userId: null, claims: null, tokens: {} }),
    }),
    run: async <K extends Operation>(_tab: string, op: K) => (op === 'stats' ? STATS : undefined) as Operations[K][1],
    close: () => {},
  });
}

function connection(deps: Partial<Omit<LocalDeps, 'locks'>> & { clock: FakeClock; locks: FakeLocks }, tab = 'tab-1') {
  const { locks, ...rest } = deps;
  const conn = new LocalConnection(config, tab, NAME, new SnapshotMirror('local'), {
    channel: (name) => {
      const channel = new BroadcastChannel(name);
      open.push(channel);
      return channel;
    },
    loadHost: async () => standIn(`leader-${tab}`),
    ...rest,
    locks: locks.manager,
  });
  open.push(conn);
  return conn;
}

function listen(name: string): unknown[] {
  const seen: unknown[] = [];
  const channel = new BroadcastChannel(name);
  channel.onmessage = (event: MessageEvent) => seen.push(event.data);
  open.push(channel);
  return seen;
}

describe('LocalConnection (leader election and rpc)', () => {
  it('a follower sends a request again every two poll intervals, and gives up after 15 s with ConnectionError', async () => {
    const clock = new FakeClock();
    const locks = new FakeLocks();
    await locks.hold(LEADER); // a leader that never answers
    const requests = listen(rpcChannelName(NAME));
    const conn = connection({ clock, locks });
    const outcome = conn.call('stats', null).catch((e: unknown) => e);
    await flush();
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ v: 1, type: 'request', tab: 'tab-1', op: 'stats' });
    await clock.advance(2 * config.pollIntervalMs - 1);
    expect(requests).toHaveLength(1);
    await clock.advance(1);
    expect(requests).toHaveLength(2);
    expect((requests[1] as { id: string }).id).toBe((requests[0] as { id: string }).id);
    await clock.advance(15_000 - 2 * config.pollIntervalMs - 1);
    expect(await Promise.race([outcome, Promise.resolve('pending')])).toBe('pending');
    await clock.advance(1);
    expect(await outcome).toBeInstanceOf(ConnectionError);
    expect(clock.pending).toBe(0);
  });

  it('a tab that wins the election but cannot load the engine gives the lock up and stands again a poll interval later', async () => {
    const clock = new FakeClock();
    const locks = new FakeLocks();
    let loads = 0;
    const conn = connection({
      clock,
      locks,
      loadHost: async () => {
        if (++loads === 1) throw new Error('chunk failed to load');
        return standIn('second-try');
      },
    });
    await flush();
    expect(loads).toBe(1);
    expect(locks.isHeld(LEADER)).toBe(false);
    expect(conn.leading).toBe(false);
    await clock.advance(config.pollIntervalMs - 1);
    expect(loads).toBe(1);
    await clock.advance(1);
    expect(loads).toBe(2);
    expect(locks.isHeld(LEADER)).toBe(true);
    expect(conn.leading).toBe(true);
  });

  it('when the leader closes, the next tab in line leads and answers its own waiting call', async () => {
    const clock = new FakeClock();
    const locks = new FakeLocks();
    const leader = connection({ clock, locks }, 'tab-a');
    await flush();
    expect(leader.leading).toBe(true);
    const follower = connection({ clock, locks }, 'tab-b');
    await flush();
    expect(follower.leading).toBe(false);
    // The stand-in leader does not answer rpc: the call waits until the follower leads itself.
    const stats = follower.call('stats', null);
    await flush();
    leader.close();
    await flush();
    expect(follower.leading).toBe(true);
    expect(await stats).toEqual(STATS);
    expect(clock.pending).toBe(0);
  });

  it('checks every reply of the leader by its operation: well-formed results pass, a malformed one is a ConnectionError', async () => {
    const clock = new FakeClock();
    const locks = new FakeLocks();
    await locks.hold(LEADER); // a leader in another tab, played by the channel below
    const answers: Record<string, unknown> = {
      sync: 7,
      setActiveSession: 8,
      signOut: { version: 9, redirect: null },
      signIn: 'https://op.example/authorize?state=s',
      handleRedirect: { returnTo: '/inbox', version: 10 },
      proof: 'eyJ.proof.sig',
    };
    let malformed = false;
    const rpc = new BroadcastChannel(rpcChannelName(NAME));
    open.push(rpc);
    rpc.onmessage = ({ data }: MessageEvent) => {
      if (data.type === 'request')
        rpc.postMessage({ v: 1, type: 'reply', id: data.id, instance: 'leader-elsewhere', result: malformed ? { version: 'x' } : answers[data.op] });
    };
    const conn = connection({ clock, locks });
    for (const [op, result] of Object.entries(answers)) expect(await conn.call(op as 'sync', null)).toEqual(result);
    malformed = true;
    for (const op of Object.keys(answers)) await expect(conn.call(op as 'sync', null)).rejects.toBeInstanceOf(ConnectionError);
  });

  it('a closed follower withdraws from the election: a page stored in the back/forward cache is never granted the leader lock (SPEC 6)', async () => {
    const clock = new FakeClock();
    const locks = new FakeLocks();
    const release = await locks.hold(LEADER); // another tab leads
    const follower = connection({ clock, locks });
    await flush();
    expect(locks.waiting(LEADER)).toBe(1);
    follower.close();
    await flush();
    expect(locks.waiting(LEADER)).toBe(0);
    release(); // the leader leaves: nothing is granted to the closed follower
    await flush();
    expect(locks.isHeld(LEADER)).toBe(false);
    expect(follower.leading).toBe(false);
  });
});
