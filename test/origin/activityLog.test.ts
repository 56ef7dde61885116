/**
 * What a live chart reads from the development origin: the mint log's window (`since`), the
 * origin's clock (`now`), which requests counted as mints (`minted`), and the outage mode in the
 * stats — all added beside the fields older readers use, which keep their shape.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MintRecord } from '../../origin/OriginState.ts';
import { Browser, control, errorCode, startOrigin, stats, type RunningOrigin } from './harness.ts';

let o: RunningOrigin;
let clock = 1_800_000_000_000;

beforeAll(async () => {
  o = await startOrigin({ faults: true, now: () => clock });
});
afterAll(() => o.close());
beforeEach(async () => {
  expect((await control(o.base, '/__origin/reset')).status).toBe(200);
});

async function log(query = ''): Promise<{ mints: MintRecord[]; now: number }> {
  const res = await fetch(`${o.base}/__origin/log${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { mints: MintRecord[]; now: number };
}

describe('the mint log for a live chart', () => {
  it('says which requests counted as mints, so the log agrees with the stats', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    await browser.mintJwt(sid);
    await control(o.base, '/__origin/outage', { mode: 'down' });
    expect((await browser.mint(sid)).status).toBe(503);
    await control(o.base, '/__origin/outage', { mode: 'off' });
    await control(o.base, '/__origin/faults', { hostile: 'not_jwt' });
    expect((await browser.mint(sid)).status).toBe(200);
    await control(o.base, '/__origin/faults', {});
    await browser.mintJwt(sid);
    const { mints } = await log();
    expect(mints.map((r) => [r.status, r.minted])).toEqual([
      [200, true],
      [503, false],
      [200, false],
      [200, true],
    ]);
    expect(mints.filter((r) => r.minted).length).toBe((await stats(o.base)).mints);
  });

  it('answers the origin clock and keeps only the requests that arrived at or after `since`', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    const start = clock;
    await browser.mintJwt(sid);
    clock += 1000;
    await browser.mintJwt(sid);
    clock += 1000;
    await browser.mintJwt(sid);
    const all = await log();
    expect(all.now).toBe(clock);
    expect(all.mints.map((r) => r.at - start)).toEqual([0, 1000, 2000]);
    expect((await log(`?since=${start + 1000}`)).mints.map((r) => r.at - start)).toEqual([1000, 2000]);
    expect((await log(`?since=${clock + 1}`)).mints).toEqual([]);
    expect((await log('?since=0')).mints.length).toBe(3);
  });

  it.each(['?since=', '?since=-1', '?since=1.5', '?since=abc', '?since=1&since=2'])('refuses %s with 422', async (query) => {
    const res = await fetch(`${o.base}/__origin/log${query}`);
    expect(res.status).toBe(422);
    expect(await errorCode(res)).toBe('form_param_invalid');
  });
});

describe('the stats for a live chart', () => {
  it('keep mints, requests and sessions and add the outage mode in force and the app session counters', async () => {
    expect((await stats(o.base)).outage).toBe('off');
    await control(o.base, '/__origin/outage', { mode: 'down' });
    const s = await stats(o.base);
    expect(s.outage).toBe('down');
    expect(Object.keys(s).sort()).toEqual(['app', 'mints', 'outage', 'requests', 'sessions']);
    expect(s.mints).toBe(0);
    expect(typeof s.requests.mint).toBe('number');
    await control(o.base, '/__origin/reset');
    expect((await stats(o.base)).outage).toBe('off');
  });
});
