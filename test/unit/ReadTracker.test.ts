import { describe, expect, it } from 'vitest';
import { createReadTracker } from '../../client/ReadTracker.ts';
import type { ReadReport } from '../../protocol/types.ts';
import { req } from './support/engine.ts';
import { FakeClock } from './support/FakeClock.ts';

describe('ReadTracker (the tab reports its reads)', () => {
  it('reports the first read at once, then one batch at most per poll interval, with the largest leeway of each key', async () => {
    const clock = new FakeClock();
    const sent: ReadReport[][] = [];
    const tracker = createReadTracker(5000, (reads) => sent.push(reads), clock);
    tracker.read('s|||', req());
    await clock.advance(0);
    expect(sent).toEqual([[{ key: 's|||', request: req() }]]);
    tracker.read('s|||', req({ leewayInSeconds: 30 }));
    tracker.read('s|||', req({ leewayInSeconds: 20 }));
    tracker.read('s|api||', req({ template: 'api' }));
    await clock.advance(4999);
    expect(sent).toHaveLength(1);
    await clock.advance(1);
    expect(sent[1]).toEqual([
      { key: 's|||', request: req({ leewayInSeconds: 30 }) },
      { key: 's|api||', request: req({ template: 'api' }) },
    ]);
    // Nothing read: nothing sent, and no timer left running.
    await clock.advance(60_000);
    expect(sent).toHaveLength(2);
    expect(clock.pending).toBe(0);
    // A read long after the last report goes out at once again.
    tracker.read('s|||', req());
    await clock.advance(0);
    expect(sent).toHaveLength(3);
    tracker.read('s|||', req({ leewayInSeconds: 40 }));
    tracker.close();
    await clock.advance(10_000);
    expect(sent).toHaveLength(3);
  });

  it('lets a tab ask for a background refresh of a key once per poll interval', async () => {
    const clock = new FakeClock();
    const tracker = createReadTracker(5000, () => {}, clock);
    expect(tracker.mayAsk('k', clock.now())).toBe(true);
    expect(tracker.mayAsk('k', clock.now() + 4999)).toBe(false);
    expect(tracker.mayAsk('other', clock.now() + 1)).toBe(true);
    expect(tracker.mayAsk('k', clock.now() + 5000)).toBe(true);
    tracker.close();
  });

  it('stopped while the page is stored (SPEC 6), it sends nothing, and the next read after it is back reports what was pending', async () => {
    const clock = new FakeClock();
    const sent: ReadReport[][] = [];
    const tracker = createReadTracker(5000, (reads) => sent.push(reads), clock);
    tracker.read('s|||', req());
    await clock.advance(0);
    tracker.read('s|api||', req({ template: 'api' }));
    tracker.close(); // pagehide: the timer stops
    await clock.advance(60_000);
    expect(sent).toHaveLength(1);
    expect(clock.pending).toBe(0);
    tracker.read('s|||', req()); // back: a read arms the report again, with what was pending
    await clock.advance(0);
    expect(sent[1]).toEqual([
      { key: 's|api||', request: req({ template: 'api' }) },
      { key: 's|||', request: req() },
    ]);
  });
});
