/**
 * `POST /__origin/clock { advanceMs }`: the origin's own clock moved ahead, so a test gets a token
 * with a later `iat` without waiting for it. Everything the origin reads from its clock moves
 * together — iat, nbf and exp, session expiry, the mint log and its `now`, the `Date` header — and
 * a reset puts it back.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect } from 'vitest';
import { Browser, control, errorCode, it, lanAddress, startOrigin, type RunningOrigin } from './harness.ts';

/** The origin's base clock: fixed, so every figure below is exact. */
const START = 1_800_000_000_250;
let clock = START;
let o: RunningOrigin;

beforeAll(async () => {
  o = await startOrigin({ faults: true, now: () => clock });
});
afterAll(() => o.close());
beforeEach(async () => {
  clock = START;
  expect((await control(o.base, '/__origin/reset')).status).toBe(200);
});

const advance = (base: string, body: unknown) => control(base, '/__origin/clock', body);
const dateOf = (res: Response): number => Date.parse(res.headers.get('date') ?? '');
const seconds = (ms: number): number => Math.floor(ms / 1000);

describe('POST /__origin/clock', () => {
  it("moves the next token's iat, nbf and exp by advanceMs on an origin on real time", async ({ origins }) => {
    const real = await origins.start({ faults: true });
    const browser = new Browser(real.base);
    const sid = await browser.signIn();
    const before = decodeJwt(await browser.mintJwt(sid));
    const res = await advance(real.base, { advanceMs: 5000 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ offsetMs: 5000 });
    const after = decodeJwt(await browser.mintJwt(sid));
    expect(after.iat! - before.iat!).toBeGreaterThanOrEqual(5);
    expect(after.iat! - before.iat!).toBeLessThan(8);
    expect(after.nbf! - after.iat!).toBe(before.nbf! - before.iat!);
    expect(after.exp! - after.iat!).toBe(before.exp! - before.iat!);
  });

  it('answers how far ahead the clock is in all and the clock after the move, steps adding up', async () => {
    expect(await (await advance(o.base, { advanceMs: 1000 })).json()).toEqual({ offsetMs: 1000, now: START + 1000 });
    expect(await (await advance(o.base, { advanceMs: 0.5 })).json()).toEqual({ offsetMs: 1000.5, now: START + 1000.5 });
    expect(await (await advance(o.base, { advanceMs: 86_400_000 })).json()).toEqual({ offsetMs: 86_401_000.5, now: START + 86_401_000.5 });
    // The base clock still runs underneath.
    clock += 250;
    const browser = new Browser(o.base);
    const jwt = decodeJwt(await browser.mintJwt(await browser.signIn()));
    expect(jwt.iat).toBe(seconds(START + 250 + 86_401_000.5));
  });

  it("dates every answer on the moved clock, so a token's life against Date stays its lifetime", async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    expect(dateOf(await browser.fetch('/v1/client'))).toBe(seconds(START) * 1000);
    await advance(o.base, { advanceMs: 3_600_000 });
    const res = await browser.mint(sid);
    const { jwt } = (await res.json()) as { jwt: string };
    const date = dateOf(res);
    expect(date).toBe(seconds(START + 3_600_000) * 1000);
    const { iat, exp } = decodeJwt(jwt);
    expect(iat).toBe(seconds(START + 3_600_000));
    expect(exp! - date / 1000).toBe(60);
    // The answers of the control routes themselves too.
    expect(dateOf(await fetch(`${o.base}/__origin/stats`))).toBe(date);
  });

  it('moves the mint log and its now', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    await browser.mintJwt(sid);
    await advance(o.base, { advanceMs: 7000 });
    await browser.mintJwt(sid);
    const log = (await (await fetch(`${o.base}/__origin/log`)).json()) as { mints: { at: number }[]; now: number };
    expect(log.mints.map((m) => m.at)).toEqual([START, START + 7000]);
    expect(log.now).toBe(START + 7000);
    const since = (await (await fetch(`${o.base}/__origin/log?since=${START + 1}`)).json()) as { mints: unknown[] };
    expect(since.mints).toHaveLength(1);
  });

  it('ages sessions with it: a session past its max duration on the moved clock is expired', async () => {
    const created = await fetch(`${o.base}/v1/test_session_tokens`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_test_harness', 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'user_clock', session_max_duration_in_seconds: 60 }),
    });
    const { url } = (await created.json()) as { url: string };
    const browser = new Browser(o.base);
    expect((await browser.fetch(new URL(url).pathname + new URL(url).search)).status).toBe(302);
    const { response } = (await (await browser.fetch('/v1/client')).json()) as { response: { last_active_session_id: string } };
    const sid = response.last_active_session_id;
    expect((await browser.mint(sid)).status).toBe(200);
    await advance(o.base, { advanceMs: 59_000 });
    expect((await browser.mint(sid)).status).toBe(200);
    await advance(o.base, { advanceMs: 1000 });
    const expired = await browser.mint(sid);
    expect(expired.status).toBe(401);
    expect(await errorCode(expired)).toBe('session_expired');
  });

  it('is put back by POST /__origin/reset and by origin.reset()', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    await advance(o.base, { advanceMs: 10_000 });
    expect(decodeJwt(await browser.mintJwt(sid)).iat).toBe(seconds(START + 10_000));
    expect((await control(o.base, '/__origin/reset')).status).toBe(200);
    const res = await browser.mint(sid);
    expect(dateOf(res)).toBe(seconds(START) * 1000);
    expect(decodeJwt(((await res.json()) as { jwt: string }).jwt).iat).toBe(seconds(START));

    await advance(o.base, { advanceMs: 10_000 });
    o.origin.reset();
    expect(await (await advance(o.base, { advanceMs: 0 })).json()).toEqual({ offsetMs: 0, now: START });
  });
});

describe('POST /__origin/clock refuses', () => {
  it.each([
    [{}],
    [{ advanceMs: -1 }],
    [{ advanceMs: 86_400_001 }],
    [{ advanceMs: '1000' }],
    [{ advanceMs: null }],
    [{ advanceMs: true }],
    [{ advanceMs: [1000] }],
  ])('%j with 422 form_param_invalid, and the clock stays', async (body) => {
    const res = await advance(o.base, body);
    expect(res.status).toBe(422);
    expect(await errorCode(res)).toBe('form_param_invalid');
    expect(await (await advance(o.base, { advanceMs: 0 })).json()).toEqual({ offsetMs: 0, now: START });
  });

  it('a number JSON makes infinite with 422', async () => {
    const res = await fetch(`${o.base}/__origin/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"advanceMs":1e400}' });
    expect(res.status).toBe(422);
    expect(await errorCode(res)).toBe('form_param_invalid');
  });

  it('a body that is not JSON with 415, and malformed JSON with 400', async () => {
    const form = await fetch(`${o.base}/__origin/clock`, { method: 'POST', body: new URLSearchParams({ advanceMs: '1000' }) });
    expect(form.status).toBe(415);
    expect(await errorCode(form)).toBe('unsupported_media_type');
    const broken = await fetch(`${o.base}/__origin/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"advanceMs":' });
    expect(broken.status).toBe(400);
    expect(await errorCode(broken)).toBe('invalid_request_body');
  });

  it('a page of another origin with 403', async () => {
    const res = await fetch(`${o.base}/__origin/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.localhost:8000' },
      body: '{"advanceMs":1000}',
    });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('forbidden');
    expect(await (await advance(o.base, { advanceMs: 0 })).json()).toEqual({ offsetMs: 0, now: START });
  });

  it.skipIf(!lanAddress)('a caller that is not on loopback with 403', async ({ origins }) => {
    const lan = await origins.start({ faults: true }, [], lanAddress);
    const res = await advance(lan.base, { advanceMs: 1000 });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('forbidden');
  });

  it('without faults: the route is not served (404 not_found) and the clock is the one given', async ({ origins }) => {
    const plain = await origins.start({ now: () => clock });
    const res = await advance(plain.base, { advanceMs: 1000 });
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe('not_found');
    const browser = new Browser(plain.base);
    expect(decodeJwt(await browser.mintJwt(await browser.signIn())).iat).toBe(seconds(START));
  });
});
