import { describe, expect, it } from 'vitest';
import { TabRegistry } from '../../worker/TabRegistry.ts';
import type { SerializedError } from '../../protocol/errors.ts';
import type { Engine, TabHello } from '../../protocol/types.ts';

/** The part of an engine the registry uses: a tab count, a snapshot's session, readiness. */
function engineStandIn() {
  const counts: number[] = [];
  const engine = {
    setTabCount: (n: number) => void counts.push(n),
    snapshot: () => ({ sessionId: null }),
    useSession: async () => {},
    ready: Promise.resolve(),
    visible: () => {},
  } as unknown as Engine;
  return { engine, counts };
}

const hello = (tabId: string): TabHello => ({ tabId, config: null as never, sessionId: null, visible: false, fetchOrigins: [] });
const failure = (message: string): SerializedError => ({ name: 'OriginUnavailableError', code: 'origin_unavailable', message });

describe('TabRegistry', () => {
  it('a failure before the tab gave its callback (a new tab says hello twice) is heard once the callback comes', async () => {
    const { engine, counts } = engineStandIn();
    const tabs = new TabRegistry(engine, undefined);
    const heard: string[] = [];
    await tabs.admit(hello('tab-a'), Promise.resolve());
    tabs.notify(failure('storage is off'));
    expect(heard).toEqual([]);
    await tabs.admit(hello('tab-a'), Promise.resolve(), (e) => void heard.push(e.message));
    expect(heard).toEqual(['storage is off']);
    tabs.notify(failure('later'));
    expect(heard).toEqual(['storage is off', 'later']);
    // Said hello twice, counted once.
    expect(counts).toEqual([1]);
  });

  it('keeps at most the last 16 failures for a tab without a callback, and none for a tab that left', async () => {
    const { engine } = engineStandIn();
    const tabs = new TabRegistry(engine, undefined);
    await tabs.admit(hello('tab-a'), Promise.resolve());
    for (let i = 0; i < 20; i++) tabs.notify(failure(`f${i}`));
    const heard: string[] = [];
    await tabs.admit(hello('tab-a'), Promise.resolve(), (e) => void heard.push(e.message));
    expect(heard).toEqual(Array.from({ length: 16 }, (_, i) => `f${i + 4}`));
    tabs.drop('tab-a');
    tabs.notify(failure('after'));
    await tabs.admit(hello('tab-a'), Promise.resolve(), (e) => void heard.push(e.message));
    expect(heard).not.toContain('after');
  });
});
