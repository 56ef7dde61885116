import { createLocalJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect } from 'vitest';
import { isLoopbackAddress, isLoopbackHost } from '../../origin/loopback.ts';
import { ROUTE_NAMES } from '../../origin/OriginState.ts';
import { Browser, control, errorCode, it, lanAddress, startOrigin, stats, type RunningOrigin } from './harness.ts';

let clock = Date.now();
let o: RunningOrigin;

beforeAll(async () => {
  o = await startOrigin({ faults: true, templates: { api: { claims: { aud: 'api' } } }, now: () => clock });
});
afterAll(() => o.close());
beforeEach(async () => {
  clock = Date.now();
  expect((await control(o.base, '/__origin/reset')).status).toBe(200);
});

async function verifyAt(jwt: string, seconds: number) {
  const jwks = (await (await fetch(`${o.base}/.well-known/jwks.json`)).json()) as Parameters<typeof createLocalJWKSet>[0];
  const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks), { currentDate: new Date(seconds * 1000) });
  return { payload, header: decodeProtectedHeader(jwt) };
}

describe('outage mode down', () => {
  it('answers 503 on the frontend token routes only, and mints again once switched off', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    expect(await (await control(o.base, '/__origin/outage', { mode: 'down' })).json()).toEqual({ mode: 'down' });
    for (const template of [undefined, 'api']) {
      const res = await browser.mint(sid, template ? { template } : {});
      expect(res.status).toBe(503);
      expect(await errorCode(res)).toBe('service_unavailable');
    }
    expect((await browser.fetch('/v1/client')).status).toBe(200);
    const backend = await fetch(`${o.base}/v1/sessions/${sid}/tokens`, { method: 'POST', headers: { authorization: 'Bearer sk_test_harness' } });
    expect(backend.status).toBe(200);
    expect((await stats(o.base)).mints).toBe(0);
    await control(o.base, '/__origin/outage', { mode: 'off' });
    expect((await browser.mint(sid)).status).toBe(200);
  });
});

describe('outage mode missing_expired_token', () => {
  it('answers 422 missing_expired_token without an expired_token, and counts no mint', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    await control(o.base, '/__origin/outage', { mode: 'missing_expired_token' });
    const res = await browser.mint(sid);
    expect(res.status).toBe(422);
    expect(await errorCode(res)).toBe('missing_expired_token');
    expect((await stats(o.base)).mints).toBe(0);
  });

  it('re-mints from an expired token of the same session, keeping its oiat while iat moves on', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    const first = await browser.mintJwt(sid);
    const a = await verifyAt(first, Math.floor(clock / 1000));
    clock += 120_000; // token A is now expired by the origin's own clock
    await control(o.base, '/__origin/outage', { mode: 'missing_expired_token' });

    const second = await browser.mintJwt(sid, { query: `?expired_token=${first}` });
    const b = await verifyAt(second, Math.floor(clock / 1000));
    expect(b.header.oiat).toBe(a.header.oiat);
    expect(b.payload.iat).toBe((a.payload.iat ?? 0) + 120);
    expect(b.payload.sid).toBe(sid);

    // A token re-minted from the re-minted one still carries the first original iat.
    clock += 5_000;
    const third = await browser.mintJwt(sid, { template: 'api', query: `?expired_token=${second}` });
    const c = await verifyAt(third, Math.floor(clock / 1000));
    expect(c.header.oiat).toBe(a.header.oiat);
    expect(c.payload.aud).toBe('api');
    expect((await stats(o.base)).sessions[sid]).toEqual({ mints: 3 });
  });

  it('re-mints from a token that has not expired yet as well', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    const first = await browser.mintJwt(sid);
    await control(o.base, '/__origin/outage', { mode: 'missing_expired_token' });
    const res = await browser.mint(sid, { query: `?expired_token=${first}` });
    expect(res.status).toBe(200);
  });

  it('refuses with 422 a token of another session, of another origin, a forged one or garbage', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    const otherSid = await browser.signIn();
    const otherSessionsToken = await browser.mintJwt(otherSid);
    const stranger = await startOrigin();
    const strangerBrowser = new Browser(stranger.base);
    const foreignToken = await strangerBrowser.mintJwt(await strangerBrowser.signIn());
    await stranger.close();
    const { privateKey } = await generateKeyPair('ES256');
    const selfSigned = await new SignJWT({ sid, sub: 'user_x' })
      .setProtectedHeader({ alg: 'ES256', kid: decodeProtectedHeader(otherSessionsToken).kid ?? '' })
      .setIssuedAt()
      .sign(privateKey);
    const [h, p, s] = otherSessionsToken.split('.');
    const payload = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, sid })).toString('base64url')}.${s}`;
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sid })).toString('base64url')}.`;

    await control(o.base, '/__origin/outage', { mode: 'missing_expired_token' });
    for (const token of [otherSessionsToken, foreignToken, selfSigned, tampered, unsigned, 'garbage', '']) {
      const res = await browser.mint(sid, { query: `?expired_token=${encodeURIComponent(token)}` });
      expect(res.status).toBe(422);
      expect(await errorCode(res)).toBe('missing_expired_token');
    }
    expect((await stats(o.base)).mints).toBe(1); // only the mint of otherSessionsToken before the outage
  });

  it('still checks the cookie and the session before the expired token', async () => {
    const owner = new Browser(o.base);
    const sid = await owner.signIn();
    const token = await owner.mintJwt(sid);
    await control(o.base, '/__origin/outage', { mode: 'missing_expired_token' });
    const intruder = new Browser(o.base);
    await intruder.signIn();
    const foreign = await intruder.mint(sid, { query: `?expired_token=${token}` });
    expect(foreign.status).toBe(404);
    expect(await errorCode(foreign)).toBe('session_not_found');
    const anonymous = await new Browser(o.base).mint(sid, { query: `?expired_token=${token}` });
    expect(anonymous.status).toBe(401);
    await owner.fetch(`/v1/client/sessions/${sid}/end`, { method: 'POST' });
    const ended = await owner.mint(sid, { query: `?expired_token=${token}` });
    expect(ended.status).toBe(401);
    expect(await errorCode(ended)).toBe('session_ended');
  });
});

describe('injected faults', () => {
  it('delays the token routes by latencyMs', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    expect(await (await control(o.base, '/__origin/faults', { latencyMs: 250 })).json()).toEqual({ latencyMs: 250, errorRate: 0, status: 503 });
    const started = performance.now();
    expect((await browser.mint(sid)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
    const quick = performance.now();
    await browser.fetch('/v1/client');
    expect(performance.now() - quick).toBeLessThan(200);
  });

  it('answers the configured status with errorRate 1 (503 by default), counting no mint', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    await control(o.base, '/__origin/faults', { errorRate: 1 });
    const res = await browser.mint(sid);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(await errorCode(res)).toBe('injected_fault');
    await control(o.base, '/__origin/faults', { errorRate: 1, status: 500 });
    expect((await browser.mint(sid, { template: 'api' })).status).toBe(500);
    const s = await stats(o.base);
    expect(s.mints).toBe(0);
    expect(s.requests.mint).toBe(2);
  });

  it('sends Retry-After: 1 with an injected 429', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    await control(o.base, '/__origin/faults', { errorRate: 1, status: 429 });
    const res = await browser.mint(sid);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await errorCode(res)).toBe('too_many_requests');
  });

  it('clears the faults with an empty body', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    await control(o.base, '/__origin/faults', { errorRate: 1 });
    await control(o.base, '/__origin/faults', {});
    expect((await browser.mint(sid)).status).toBe(200);
  });
});

describe('config, stats and reset', () => {
  it('changes the default token lifetime with /__origin/config, and reset restores the option', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    expect(await (await control(o.base, '/__origin/config', { tokenLifetimeSeconds: 20 })).json()).toEqual({
      tokenLifetimeSeconds: 20,
      refreshReuseIntervalSeconds: 0,
    });
    expect(await (await fetch(`${o.base}/__origin/config`)).json()).toEqual({ tokenLifetimeSeconds: 20, refreshReuseIntervalSeconds: 0 });
    const short = await verifyAt(await browser.mintJwt(sid), Math.floor(clock / 1000));
    expect((short.payload.exp ?? 0) - (short.payload.iat ?? 0)).toBe(20);
    await control(o.base, '/__origin/reset');
    const normal = await verifyAt(await browser.mintJwt(sid), Math.floor(clock / 1000));
    expect((normal.payload.exp ?? 0) - (normal.payload.iat ?? 0)).toBe(60);
  });

  it('counts requests under fixed route names, all present from the start', async () => {
    const fresh = await stats(o.base);
    expect(fresh.mints).toBe(0);
    expect(fresh.sessions).toEqual({});
    expect(Object.keys(fresh.requests).sort()).toEqual([...ROUTE_NAMES].sort());
    expect(Object.values(fresh.requests).every((n) => n === 0)).toBe(true);
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    await browser.fetch('/v1/client');
    await browser.mintJwt(sid);
    await fetch(`${o.base}/.well-known/jwks.json`);
    await browser.fetch(`/v1/client/sessions/${sid}/end`, { method: 'POST' });
    const s = await stats(o.base);
    expect(s.requests).toMatchObject({ sign_in: 1, client: 1, mint: 1, jwks: 1, end: 1 });
    expect(s.mints).toBe(1);
    expect(s.sessions).toEqual({ [sid]: { mints: 1 } });
  });

  it('resets counters, outage and faults but keeps sessions, so an existing cookie still mints', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    await browser.mintJwt(sid);
    await control(o.base, '/__origin/outage', { mode: 'down' });
    await control(o.base, '/__origin/faults', { latencyMs: 5000 });
    expect(await (await control(o.base, '/__origin/reset')).json()).toEqual({ ok: true });
    expect((await stats(o.base)).mints).toBe(0);
    const started = performance.now();
    expect((await browser.mint(sid)).status).toBe(200);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(o.origin.stats().mints).toBe(1);
    o.origin.reset();
    expect(o.origin.stats().mints).toBe(0);
  });
});

describe('the fault controls refuse bad requests', () => {
  it.each([
    ['/__origin/outage', { mode: 'bogus' }],
    ['/__origin/outage', {}],
    ['/__origin/faults', { latencyMs: -1 }],
    ['/__origin/faults', { latencyMs: 1.5 }],
    ['/__origin/faults', { latencyMs: 60_001 }],
    ['/__origin/faults', { latencyMs: '10' }],
    ['/__origin/faults', { errorRate: 2 }],
    ['/__origin/faults', { errorRate: -0.1 }],
    ['/__origin/faults', { errorRate: 'x' }],
    ['/__origin/faults', { status: 200 }],
    ['/__origin/faults', { status: 600 }],
    ['/__origin/faults', { status: 503.5 }],
    ['/__origin/config', { tokenLifetimeSeconds: 19 }],
    ['/__origin/config', { tokenLifetimeSeconds: 86_401 }],
    ['/__origin/config', { tokenLifetimeSeconds: '60' }],
    ['/__origin/config', {}],
  ])('answers 422 form_param_invalid to %s %j and changes nothing', async (path, body) => {
    const res = await control(o.base, path, body);
    expect(res.status).toBe(422);
    expect(await errorCode(res)).toBe('form_param_invalid');
    expect(await (await fetch(`${o.base}/__origin/config`)).json()).toEqual({ tokenLifetimeSeconds: 60, refreshReuseIntervalSeconds: 0 });
    const browser = new Browser(o.base);
    expect((await browser.mint(await browser.signIn())).status).toBe(200);
  });

  it('answers 415 to a body that is not JSON, such as a cross-site form post', async () => {
    const res = await fetch(`${o.base}/__origin/outage`, { method: 'POST', body: new URLSearchParams({ mode: 'down' }) });
    expect(res.status).toBe(415);
    expect(await errorCode(res)).toBe('unsupported_media_type');
    const plain = await fetch(`${o.base}/__origin/outage`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"mode":"down"}' });
    expect(plain.status).toBe(415);
    const browser = new Browser(o.base);
    expect((await browser.mint(await browser.signIn())).status).toBe(200);
  });

  it('answers 400 invalid_request_body to malformed JSON', async () => {
    const res = await fetch(`${o.base}/__origin/outage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"mode":' });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('invalid_request_body');
  });

  it('answers 403 to a page of another origin, even on this machine', async () => {
    const res = await fetch(`${o.base}/__origin/outage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.localhost:8000' },
      body: '{"mode":"down"}',
    });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('forbidden');
    const same = await fetch(`${o.base}/__origin/stats`, { headers: { origin: o.base } });
    expect(same.status).toBe(200);
  });

  it.skipIf(!lanAddress)('answers 403 forbidden to a caller that is not on loopback', async ({ origins }) => {
    const lan = await origins.start({ faults: true }, [], lanAddress);
    const res = await fetch(`${lan.base}/__origin/stats`);
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('forbidden');
    expect((await fetch(`${lan.base}/v1/client`)).status).toBe(200);
  });
});

describe('the loopback predicates', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.5.6.7', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['::FFFF:127.0.0.9', true],
    ['0:0:0:0:0:0:0:1', true],
    ['10.0.0.1', false],
    ['192.168.1.5', false],
    ['::ffff:10.0.0.1', false],
    ['::', false],
    ['0.0.0.0', false],
    ['128.0.0.1', false],
    ['127.0.0.1.evil.com', false],
    ['', false],
    [undefined, false],
  ])('isLoopbackAddress(%j) is %s', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });

  it.each([
    ['localhost', true],
    ['127.0.0.1', true],
    ['[::1]', true],
    ['::1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['example.com', false],
  ])('isLoopbackHost(%j) is %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('without faults', () => {
  it('serves none of the /__origin routes: 404 not_found, or the next handler', async ({ origins }) => {
    const plain = await origins.start();
    for (const [method, path] of [
      ['GET', '/__origin/stats'],
      ['POST', '/__origin/outage'],
      ['POST', '/__origin/reset'],
      ['POST', '/__origin/config'],
    ] as const) {
      const res = await fetch(`${plain.base}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: '{"mode":"down"}' } : {}),
      });
      expect(res.status).toBe(404);
      expect(await errorCode(res)).toBe('not_found');
    }
    const browser = new Browser(plain.base);
    expect((await browser.mint(await browser.signIn())).status).toBe(200);
    expect(plain.origin.faults).toBe(false);
    expect(plain.origin.stats().mints).toBe(1);
  });
});
