/**
 * The tab's mirror (SPEC 6: the port is the authority, the channel the fast path): a channel message
 * is applied only when it continues the snapshot by exactly one version; a gap, a repeat, or anything
 * but a token makes the mirror ask the engine for its whole snapshot over the port, which replaces
 * the mirror whatever its version. The port is a stand-in here that answers when the test says so.
 */
import { describe, expect, it } from 'vitest';
import { SnapshotMirror } from '../../client/SnapshotMirror.ts';
import type { BroadcastMessage } from '../../protocol/messages.ts';
import type { Snapshot } from '../../protocol/types.ts';

const KEY = 'sess_1|||';
const base = (version: number, jwt = 'jwt.a', extra: Partial<Snapshot> = {}): Snapshot =>
  Object.freeze({
    version,
    status: 'ok',
    mode: 'shared',
    storage: 'memory',
    sessionId: 'sess_1',
    userId: 'user_1',
    claims: null,
    tokens: { [KEY]: { jwt, expiresAt: 2_000_000, staleAt: 1_985_000 } },
    ...extra,
  });
const token = (version: number, jwt: string, instance = 'w-1'): BroadcastMessage => ({
  v: 1,
  instance,
  version,
  type: 'token',
  key: KEY,
  jwt,
  expiresAt: 3_000_000,
  staleAt: 2_985_000,
});

/** A mirror welcomed by `w-1` at `welcome`, whose port answers with what `answer` holds when `port.answer()` is called. */
function setup(welcome = base(5)) {
  const asked: ((snapshot: Snapshot) => void)[] = [];
  const mirror = new SnapshotMirror('shared', () => new Promise<Snapshot>((resolve) => asked.push(resolve)));
  mirror.adopt('w-1', welcome);
  const events: { type: string; detail: unknown }[] = [];
  for (const type of ['token', 'signout', 'status'] as const) mirror.on(type, (detail) => events.push({ type, detail }));
  const port = {
    get asked() {
      return asked.length;
    },
    /** Answers the oldest question with `snapshot`, then lets the mirror take it. */
    async answer(snapshot: Snapshot) {
      asked.shift()!(snapshot);
      await mirror.resyncing;
    },
  };
  return { mirror, port, events };
}

describe('SnapshotMirror', () => {
  it('applies a token one version above the snapshot, without asking the engine', () => {
    const { mirror, port, events } = setup();
    mirror.apply(token(6, 'jwt.b'));
    expect(mirror.snapshot.version).toBe(6);
    expect(mirror.snapshot.tokens[KEY]?.jwt).toBe('jwt.b');
    expect(port.asked).toBe(0);
    expect(mirror.resyncing).toBeNull();
    expect(events).toEqual([{ type: 'token', detail: { key: KEY, jwt: 'jwt.b', expiresAt: 3_000_000, staleAt: 2_985_000 } }]);
  });

  it.each([
    ['a version jump', 9],
    ['the largest safe version', Number.MAX_SAFE_INTEGER],
  ])('asks the engine on %s, applies nothing meanwhile, and takes the port snapshot whatever its version', async (_, version) => {
    const { mirror, port } = setup();
    const before = mirror.snapshot;
    mirror.apply({
      v: 1,
      instance: 'w-1',
      version,
      type: 'status',
      status: 'signed-out',
      since: 0,
      sessionId: null,
      userId: null,
      claims: null,
      storage: 'memory',
    });
    expect(mirror.snapshot).toBe(before);
    expect(port.asked).toBe(1);
    expect(mirror.resyncing).not.toBeNull();
    await port.answer(base(5));
    // Nothing was off: the snapshot keeps its identity (no render, no event).
    expect(mirror.snapshot).toBe(before);
    expect(mirror.resyncing).toBeNull();
    // And the engine's next change applies as usual.
    mirror.apply(token(6, 'jwt.b'));
    expect(mirror.snapshot.tokens[KEY]?.jwt).toBe('jwt.b');
  });

  it('asks the engine on a repeat of a version it took from the channel, and drops the forged token', async () => {
    const { mirror, port, events } = setup();
    mirror.apply(token(6, 'forged'));
    expect(mirror.snapshot.tokens[KEY]?.jwt).toBe('forged');
    mirror.apply(token(6, 'jwt.b'));
    expect(port.asked).toBe(1);
    await port.answer(base(6, 'jwt.b'));
    expect(mirror.snapshot).toEqual(base(6, 'jwt.b'));
    expect(events.filter((e) => e.type === 'token').map((e) => (e.detail as { jwt: string }).jwt)).toEqual(['forged', 'jwt.b']);
  });

  it('ignores a repeat of what the port already said, and another instance', () => {
    const { mirror, port } = setup();
    const before = mirror.snapshot;
    mirror.apply(token(5, 'jwt.x'));
    mirror.apply(token(3, 'jwt.x'));
    mirror.apply(token(6, 'jwt.x', 'w-2'));
    expect(mirror.snapshot).toBe(before);
    expect(port.asked).toBe(0);
  });

  it('applies a sign-out at once and confirms it: a forged one is undone, and reads meanwhile can wait', async () => {
    const { mirror, port, events } = setup();
    let seen: Promise<void> | null = null;
    // A read made from a listener, the moment the sign-out shows, already has the resync to wait for.
    mirror.subscribe(() => {
      if (mirror.snapshot.status === 'signed-out') seen = mirror.resyncing;
    });
    mirror.apply({ v: 1, instance: 'w-1', version: 6, type: 'signout', sessionId: 'sess_1', status: 'signed-out', since: 9, storage: 'memory' });
    expect(mirror.snapshot).toMatchObject({ version: 6, status: 'signed-out', sessionId: null, tokens: {} });
    expect(seen).not.toBeNull();
    expect(port.asked).toBe(1);
    await port.answer(base(5));
    expect(mirror.snapshot).toEqual(base(5));
    expect(events.map((e) => e.type)).toEqual(['status', 'signout', 'status', 'token']);
  });

  it('holds channel messages while a resync is out, then applies those that continue the port snapshot and drops older ones', async () => {
    const { mirror, port } = setup();
    mirror.apply(token(8, 'jwt.gap'));
    mirror.apply(token(6, 'jwt.6'));
    mirror.apply(token(7, 'jwt.7'));
    mirror.apply(token(8, 'jwt.8'));
    mirror.apply(token(9, 'jwt.9'));
    expect(mirror.snapshot.version).toBe(5);
    await port.answer(base(7, 'jwt.7'));
    expect(mirror.snapshot.version).toBe(9);
    expect(mirror.snapshot.tokens[KEY]?.jwt).toBe('jwt.9');
    expect(port.asked).toBe(0);
  });

  it('takes a status that carries the whole token map, and a sign-out that carries its status', async () => {
    const { mirror, port } = setup();
    const tokens = {
      'sess_2|||': { jwt: 'jwt.s2', expiresAt: 5, staleAt: 4 },
      'sess_2|api||': { jwt: 'jwt.api', expiresAt: 6, staleAt: 5, scheme: 'DPoP' as const },
    };
    mirror.apply({
      v: 1,
      instance: 'w-1',
      version: 6,
      type: 'status',
      status: 'ok',
      since: 1,
      sessionId: 'sess_2',
      userId: 'user_2',
      claims: { sub: 'user_2' },
      storage: 'indexeddb',
      tokens,
    });
    expect(mirror.snapshot).toEqual({
      version: 6,
      status: 'ok',
      mode: 'shared',
      storage: 'indexeddb',
      sessionId: 'sess_2',
      userId: 'user_2',
      claims: { sub: 'user_2' },
      tokens,
    });
    await port.answer(mirror.snapshot);
    mirror.apply({ v: 1, instance: 'w-1', version: 7, type: 'signout', sessionId: 'sess_2', status: 'signed-out', since: 2, storage: 'memory' });
    expect(mirror.snapshot).toEqual({
      version: 7,
      status: 'signed-out',
      mode: 'shared',
      storage: 'memory',
      sessionId: null,
      userId: null,
      claims: null,
      tokens: {},
    });
  });

  it('drops the answer of a resync asked before a new worker welcomed the tab', async () => {
    const { mirror, port } = setup();
    mirror.apply(token(9, 'jwt.gap'));
    mirror.adopt('w-2', base(1, 'jwt.new'));
    await port.answer(base(9, 'jwt.old'));
    expect(mirror.instance).toBe('w-2');
    expect(mirror.snapshot.tokens[KEY]?.jwt).toBe('jwt.new');
  });
});
