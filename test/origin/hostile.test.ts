/**
 * The fault controls the reliability drills lean on: hostile answers in place of a token, latency
 * jitter, and the mint log (`GET /__origin/log`).
 */
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HUGE_BODY_BYTES } from '../../origin/faultInjection.ts';
import { HOSTILE_KINDS } from '../../origin/OriginState.ts';
import { mintLog as mintLogAt } from '../support/originApi.ts';
import { Browser, control, errorCode, startOrigin, stats, type RunningOrigin } from './harness.ts';

let o: RunningOrigin;

beforeAll(async () => {
  o = await startOrigin({ faults: true, templates: { api: { claims: { aud: 'api' } } } });
});
afterAll(() => o.close());
beforeEach(async () => {
  expect((await control(o.base, '/__origin/reset')).status).toBe(200);
});

const mintLog = () => mintLogAt(o.base);

async function verifies(jwt: string): Promise<boolean> {
  const jwks = (await (await fetch(`${o.base}/.well-known/jwks.json`)).json()) as Parameters<typeof createLocalJWKSet>[0];
  try {
    await jwtVerify(jwt, createLocalJWKSet(jwks), { algorithms: ['ES256'] });
    return true;
  } catch {
    return false;
  }
}

async function hostileMint(kind: string): Promise<{ browser: Browser; sid: string; res: Response }> {
  const browser = new Browser(o.base);
  const sid = await browser.signIn();
  const set = await control(o.base, '/__origin/faults', { hostile: kind });
  expect(set.status).toBe(200);
  expect(await set.json()).toEqual({ latencyMs: 0, errorRate: 0, status: 503, hostile: kind });
  return { browser, sid, res: await browser.mint(sid) };
}

async function tokenOf(res: Response): Promise<string> {
  expect(res.status).toBe(200);
  const body = (await res.json()) as { object: string; jwt: string };
  expect(body.object).toBe('token');
  return body.jwt;
}

describe('hostile answers in place of a token', () => {
  it('html answers 200 with an HTML page', async () => {
    const { res } = await hostileMint('html');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toMatch(/^<!doctype html>/);
  });

  it('html_error answers 403 with an HTML error page and no JSON error body', async () => {
    const { res } = await hostileMint('html_error');
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toContain('text/html');
    await expect(res.clone().json()).rejects.toThrow();
    expect(await res.text()).toContain('Access denied');
  });

  it('non_json answers 200 application/json with a body cut off mid-way', async () => {
    const { res } = await hostileMint('non_json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const text = await res.text();
    expect(() => JSON.parse(text) as unknown).toThrow();
  });

  it('not_jwt answers a token object whose jwt is not a JWT', async () => {
    const jwt = await tokenOf((await hostileMint('not_jwt')).res);
    expect(() => decodeJwt(jwt)).toThrow();
  });

  it('wrong_sid answers a token signed here for another session', async () => {
    const { sid, res } = await hostileMint('wrong_sid');
    const jwt = await tokenOf(res);
    expect(await verifies(jwt)).toBe(true);
    expect(decodeJwt(jwt).sid).not.toBe(sid);
  });

  it('expired answers a token signed here whose exp has passed', async () => {
    const { sid, res } = await hostileMint('expired');
    const jwt = await tokenOf(res);
    const claims = decodeJwt(jwt);
    expect(claims.sid).toBe(sid);
    expect(claims.exp).toBeLessThan(Date.now() / 1000);
    expect(claims.exp).toBeGreaterThan(claims.iat ?? Infinity);
  });

  it('alg_none answers an unsigned token of this session with valid claims', async () => {
    const { sid, res } = await hostileMint('alg_none');
    const jwt = await tokenOf(res);
    expect(decodeProtectedHeader(jwt).alg).toBe('none');
    expect(jwt.endsWith('.')).toBe(true);
    const claims = decodeJwt(jwt);
    expect(claims.sid).toBe(sid);
    expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
  });

  it('bad_signature answers a token of this session that does not verify against the JWKS', async () => {
    const { sid, res } = await hostileMint('bad_signature');
    const jwt = await tokenOf(res);
    expect(decodeProtectedHeader(jwt).alg).toBe('ES256');
    expect(decodeJwt(jwt).sid).toBe(sid);
    expect(await verifies(jwt)).toBe(false);
  });

  it('huge answers a 5 MB body without a Content-Length', async () => {
    const { res } = await hostileMint('huge');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBeNull();
    const text = await res.text();
    expect(text.length).toBeGreaterThanOrEqual(HUGE_BODY_BYTES);
    expect((JSON.parse(text) as { object: string }).object).toBe('token');
  });

  it('a client that hangs up in the middle of the huge body does not stop the origin', async () => {
    const { browser, sid } = await hostileMint('huge');
    const controller = new AbortController();
    const res = await browser.fetch(`/v1/client/sessions/${sid}/tokens`, { method: 'POST', signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await control(o.base, '/__origin/faults', {});
    expect((await browser.mint(sid)).status).toBe(200);
  });

  it('counts no mint for a hostile answer, logs it with its kind, and checks the session first', async () => {
    const { browser } = await hostileMint('not_jwt');
    const other = await new Browser(o.base).signIn();
    const foreign = await browser.mint(other);
    expect(foreign.status).toBe(404);
    expect(await errorCode(foreign)).toBe('session_not_found');
    const s = await stats(o.base);
    expect(s.mints).toBe(0);
    expect(s.requests.mint).toBe(2);
    const log = await mintLog();
    expect(log.map((r) => [r.status, r.hostile])).toEqual([
      [200, 'not_jwt'],
      [404, null],
    ]);
  });

  it('every kind is refused for an unknown name, and an empty body clears it', async () => {
    const bad = await control(o.base, '/__origin/faults', { hostile: 'evil' });
    expect(bad.status).toBe(422);
    expect(await errorCode(bad)).toBe('form_param_invalid');
    expect(HOSTILE_KINDS.length).toBe(9);
    const { browser, sid } = await hostileMint('alg_none');
    await control(o.base, '/__origin/faults', {});
    expect(await verifies(await tokenOf(await browser.mint(sid)))).toBe(true);
  });
});

describe('latency jitter', () => {
  it('adds a random latency below jitterMs on top of latencyMs', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    const set = await control(o.base, '/__origin/faults', { latencyMs: 100, jitterMs: 300 });
    expect(await set.json()).toEqual({ latencyMs: 100, jitterMs: 300, errorRate: 0, status: 503 });
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const started = performance.now();
      expect((await browser.mint(sid)).status).toBe(200);
      times.push(performance.now() - started);
    }
    for (const t of times) {
      expect(t).toBeGreaterThanOrEqual(95);
      expect(t).toBeLessThan(400 + 250);
    }
    // Six uniform draws in [0, 300) all within 40 ms of each other would be a fixed latency.
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(40);
  });

  it.each([{ jitterMs: -1 }, { jitterMs: 1.5 }, { jitterMs: '5' }, { latencyMs: 40_000, jitterMs: 30_000 }])('refuses %j with 422', async (body) => {
    const res = await control(o.base, '/__origin/faults', body);
    expect(res.status).toBe(422);
    expect(await errorCode(res)).toBe('form_param_invalid');
  });
});

describe('the mint log', () => {
  it('records every token request with its status, session, template, duration and expired_token', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    const first = await browser.mintJwt(sid);
    await control(o.base, '/__origin/faults', { latencyMs: 120 });
    await browser.mintJwt(sid, { template: 'api' });
    await control(o.base, '/__origin/faults', {});
    await control(o.base, '/__origin/outage', { mode: 'missing_expired_token' });
    expect((await browser.mint(sid)).status).toBe(422);
    await browser.mintJwt(sid, { query: `?expired_token=${first}` });
    const log = await mintLog();
    expect(log.map((r) => ({ status: r.status, sessionId: r.sessionId, template: r.template, expiredToken: r.expiredToken, hostile: r.hostile }))).toEqual([
      { status: 200, sessionId: sid, template: null, expiredToken: false, hostile: null },
      { status: 200, sessionId: sid, template: 'api', expiredToken: false, hostile: null },
      { status: 422, sessionId: sid, template: null, expiredToken: false, hostile: null },
      { status: 200, sessionId: sid, template: null, expiredToken: true, hostile: null },
    ]);
    expect(log[1]!.ms).toBeGreaterThanOrEqual(100);
    for (let i = 1; i < log.length; i++) expect(log[i]!.at).toBeGreaterThanOrEqual(log[i - 1]!.at);
  });

  it('is emptied by reset', async () => {
    const browser = new Browser(o.base);
    await browser.mintJwt(await browser.signIn());
    expect((await mintLog()).length).toBe(1);
    await control(o.base, '/__origin/reset');
    expect(await mintLog()).toEqual([]);
  });
});
