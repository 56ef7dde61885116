import { describe, expect } from 'vitest';
import { it } from './support/fixtures.ts';
import { advanceOriginClock, control, sessionMints, signIn } from './support/origin.ts';
import { readAll, repeatUntil, uniqueNamespace, waitFor, type Tab, type TabSet } from './support/tabs.ts';

async function localTab(tabs: TabSet, namespace: string): Promise<Tab> {
  const [tab] = await tabs.open(1, { namespace, pollIntervalMs: 1000 }, { nosw: true });
  return tab!;
}

async function leaderHeld(namespace: string): Promise<boolean> {
  const state = await navigator.locks.query();
  return (state.held ?? []).some((lock) => lock.name === `tabtoken:v1:${namespace}:${location.origin}:leader`);
}

describe('local mode (no SharedWorker)', () => {
  it('three tabs elect one leader and cost one mint per cycle', async ({ tabs }) => {
    await control('/__origin/config', { tokenLifetimeSeconds: 20 });
    const sessionId = await signIn();
    const namespace = uniqueNamespace('local');
    const first = await localTab(tabs, namespace);
    const others = [await localTab(tabs, namespace), await localTab(tabs, namespace)];
    const list = [first, ...others];
    for (const tab of list) expect(tab.api.manager.getSnapshot().mode).toBe('local');
    expect(await leaderHeld(namespace)).toBe(true);
    const before = await sessionMints(sessionId);
    const seen = new Set<string>();
    await repeatUntil(Date.now() + 12_000, 50, async () => {
      for (const jwt of await readAll(list)) seen.add(jwt as string);
    });
    const mints = (await sessionMints(sessionId)) - before;
    expect(seen.size).toBeGreaterThanOrEqual(2);
    expect(mints).toBeLessThanOrEqual(seen.size);
    expect(mints).toBeGreaterThanOrEqual(seen.size - 1);
    expect((await first.api.manager.stats()).tabs).toBe(3);
  });

  it('after getToken resolves in the leader or a follower, its snapshot already holds the token', async ({ tabs }) => {
    const sessionId = await signIn();
    const namespace = uniqueNamespace('local-ordered');
    const list = [await localTab(tabs, namespace), await localTab(tabs, namespace)];
    for (let i = 0; i < 20; i++) {
      const manager = list[i % 2]!.api.manager;
      const jwt = await manager.getToken({ template: 'api', skipCache: true });
      expect(manager.getSnapshot().tokens[`${sessionId}|api||`]?.jwt).toBe(jwt);
      expect(manager.peekToken({ template: 'api' })).toBe(jwt);
    }
  });

  it('closing the leader hands over and tokens keep flowing', async ({ tabs }) => {
    await signIn();
    const namespace = uniqueNamespace('handover');
    const leader = await localTab(tabs, namespace);
    const followers = [await localTab(tabs, namespace), await localTab(tabs, namespace)];
    const jwt = await followers[0]!.api.manager.getToken();
    expect(jwt).toBeTypeOf('string');
    leader.close();
    // The next tab takes the lock, loads the engine and announces itself.
    await waitFor(() => leaderHeld(namespace), 5000, 'a new leader');
    await advanceOriginClock(1000);
    const fresh = await followers[1]!.api.manager.getToken({ skipCache: true });
    expect(fresh).toBeTypeOf('string');
    expect(fresh).not.toBe(jwt);
    for (const tab of followers) {
      await waitFor(() => tab.api.manager.peekToken() === fresh, 3000, "the new leader's token in every tab");
    }
    expect((await followers[0]!.api.manager.stats()).tabs).toBe(2);
  });

  it('a failure no call awaits reaches the leader and its followers as an error event', async ({ tabs }) => {
    await signIn();
    const namespace = uniqueNamespace('localevents');
    const list = [await localTab(tabs, namespace), await localTab(tabs, namespace)];
    await list[1]!.api.manager.getToken();
    const second = await signIn();
    await control('/__origin/faults', { errorRate: 1, status: 403 });
    await list[1]!.api.manager.setActiveSession(second);
    for (const tab of list) {
      const event = await waitFor(() => tab.api.events.find((e) => e.type === 'error'), 5000, 'an error event');
      expect(event.detail).toBeInstanceOf(tab.api.OriginResponseError);
    }
  });

  it('errors keep their class and code across the rpc channel', async ({ tabs }) => {
    await signIn();
    const namespace = uniqueNamespace('localerr');
    await localTab(tabs, namespace);
    const follower = await localTab(tabs, namespace);
    const error = await follower.api.manager.getToken({ template: 'no_such_template' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(follower.api.OriginResponseError);
    expect(error).toMatchObject({ code: 'origin_response', status: 404 });
  });
});
