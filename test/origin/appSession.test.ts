/**
 * The app session routes over real HTTP: a login, a refresh cookie rotated at every token call,
 * reuse detection with and without a reuse interval, logout, the protected API, and the fault,
 * clock, config and stats controls as they apply to them.
 */
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect } from 'vitest';
import { advanceClock } from '../support/originApi.ts';
import { Browser, control, errorCode, it, startOrigin, stats, verifyWithOrigin, type RunningOrigin } from './harness.ts';

let o: RunningOrigin;

beforeAll(async () => {
  o = await startOrigin({ faults: true });
});
afterAll(() => o.close());
beforeEach(async () => {
  expect((await control(o.base, '/__origin/reset')).status).toBe(200);
});

const COOKIE = '__app_refresh';

/** What one answer did to the refresh cookie: set it to a value, cleared it, or left it alone. */
interface CookieChange {
  value: string | null;
  attributes: string;
}

function cookieChange(res: Response): CookieChange | undefined {
  const set = res.headers.get('set-cookie');
  if (set === null || !set.startsWith(`${COOKIE}=`)) return undefined;
  const [pair = '', ...attributes] = set.split(';').map((part) => part.trim());
  const value = pair.slice(COOKIE.length + 1);
  return { value: /(^|; )Max-Age=0(;|$)/i.test(attributes.join('; ')) ? null : value, attributes: attributes.join('; ') };
}

/** A browser of the app: it keeps the refresh cookie the app sets, as a browser's cookie jar would. */
class AppBrowser {
  cookie: string | null = null;
  constructor(readonly base: string) {}

  /** A request; the jar's cookie goes to `/app/session/*` only (the cookie's path). */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie !== null && path.startsWith('/app/session/') && !headers.has('cookie')) headers.set('cookie', `${COOKIE}=${this.cookie}`);
    const res = await fetch(`${this.base}${path}`, { ...init, headers });
    const change = cookieChange(res);
    if (change) this.cookie = change.value;
    return res;
  }

  async login(userId = `user_${Math.random().toString(36).slice(2)}`): Promise<string> {
    const res = await this.fetch('/app/session/login', { method: 'POST', body: new URLSearchParams({ user_id: userId }) });
    expect(res.status).toBe(200);
    return userId;
  }

  token(): Promise<Response> {
    return this.fetch('/app/session/token', { method: 'POST' });
  }

  /** A token call; fails the test on anything but 200. */
  async accessToken(): Promise<string> {
    const res = await this.token();
    const body = (await res.json()) as { access_token?: string };
    if (res.status !== 200 || typeof body.access_token !== 'string') throw new Error(`token answered ${res.status} ${JSON.stringify(body)}`);
    return body.access_token;
  }

  logout(): Promise<Response> {
    return this.fetch('/app/session/logout', { method: 'POST' });
  }
}

/** A token call presenting `cookie`, as a second copy of it (another tab's, a thief's) would; the jar is left alone. */
function present(cookie: string | null, base = o.base): Promise<Response> {
  return fetch(`${base}/app/session/token`, { method: 'POST', headers: cookie === null ? {} : { cookie: `${COOKIE}=${cookie}` } });
}

function me(token: string | null, base = o.base): Promise<Response> {
  return fetch(`${base}/app/api/me`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
}

describe('login', () => {
  it('starts a family and sets an HttpOnly, SameSite=Lax refresh cookie scoped to /app/session', async () => {
    const res = await fetch(`${o.base}/app/session/login`, { method: 'POST', body: new URLSearchParams({ user_id: 'alice_01' }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ user_id: 'alice_01' });
    const change = cookieChange(res);
    expect(change?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(change?.attributes.split('; ').sort()).toEqual(['HttpOnly', 'Path=/app/session', 'SameSite=Lax']);
    expect((await stats(o.base)).app).toEqual({ tokens: 0, reuses: 0, families: 1, revoked: 0 });
  });

  it('takes user_id from a JSON body as well', async () => {
    const res = await fetch(`${o.base}/app/session/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'bob' }),
    });
    expect(res.status).toBe(200);
    expect(cookieChange(res)?.value).toBeTruthy();
  });

  it.each([[{}], [{ user_id: '' }], [{ user_id: 'a b' }], [{ user_id: 'x'.repeat(65) }], [{ user_id: 'ü' }], [{ user_id: 'a/b' }]])(
    'answers 422 form_param_invalid to %j and starts nothing',
    async (form) => {
      const res = await fetch(`${o.base}/app/session/login`, { method: 'POST', body: new URLSearchParams(form) });
      expect(res.status).toBe(422);
      expect(await errorCode(res)).toBe('form_param_invalid');
      expect(res.headers.get('set-cookie')).toBeNull();
      expect((await stats(o.base)).app.families).toBe(0);
    },
  );

  it('refuses a user_id given twice', async () => {
    const res = await fetch(`${o.base}/app/session/login`, {
      method: 'POST',
      body: 'user_id=a&user_id=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(422);
  });
});

describe('the token route', () => {
  it('answers an ES256 access token signed with the JWKS key, with sub, sid, iat, exp and iss', async () => {
    const browser = new AppBrowser(o.base);
    const userId = await browser.login();
    const res = await browser.token();
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(60);
    const { payload, header } = await verifyWithOrigin(o.base, body.access_token);
    expect(header.alg).toBe('ES256');
    expect(payload.sub).toBe(userId);
    expect(payload.sid).toMatch(/^fam_[A-Za-z0-9_-]+$/);
    expect(payload.iss).toBe(o.base);
    expect(typeof payload.iat).toBe('number');
    expect(payload.exp).toBe(payload.iat! + 60);
    expect(Date.parse(res.headers.get('date')!) / 1000).toBeCloseTo(payload.iat!, -1);
  });

  it('rotates the refresh cookie at every call', async () => {
    const browser = new AppBrowser(o.base);
    await browser.login();
    const seen = [browser.cookie];
    const sids = new Set<unknown>();
    for (let i = 0; i < 3; i += 1) {
      const token = await browser.accessToken();
      seen.push(browser.cookie);
      sids.add((await verifyWithOrigin(o.base, token)).payload.sid);
    }
    expect(new Set(seen).size).toBe(4);
    expect(seen.every((c) => typeof c === 'string' && /^[A-Za-z0-9_-]{43}$/.test(c))).toBe(true);
    expect(sids.size).toBe(1); // one family throughout
  });

  it('gives one family per login, and two logins of one user two families', async () => {
    const a = new AppBrowser(o.base);
    const b = new AppBrowser(o.base);
    await a.login('carol');
    await b.login('carol');
    const [sa, sb] = await Promise.all([a.accessToken(), b.accessToken()].map(async (t) => (await verifyWithOrigin(o.base, await t)).payload.sid));
    expect(sa).not.toBe(sb);
  });

  it('gives tokens the lifetime set with POST /__origin/config, and the tokenLifetimeSeconds option otherwise', async ({ origins }) => {
    const browser = new AppBrowser(o.base);
    await browser.login();
    await control(o.base, '/__origin/config', { tokenLifetimeSeconds: 20 });
    const res = await browser.token();
    const body = (await res.json()) as { access_token: string; expires_in: number };
    expect(body.expires_in).toBe(20);
    const { payload } = await verifyWithOrigin(o.base, body.access_token);
    expect(payload.exp! - payload.iat!).toBe(20);

    const long = await origins.start({ tokenLifetimeSeconds: 3600 });
    const other = new AppBrowser(long.base);
    await other.login();
    expect(((await (await other.token()).json()) as { expires_in: number }).expires_in).toBe(3600);
  });

  it('answers 401 unauthenticated without a cookie, or with one it never handed out', async () => {
    const none = await present(null);
    expect(none.status).toBe(401);
    expect(await errorCode(none)).toBe('unauthenticated');
    expect(none.headers.get('set-cookie')).toBeNull();
    const unknown = await present('A'.repeat(43));
    expect(unknown.status).toBe(401);
    expect(await errorCode(unknown)).toBe('unauthenticated');
    expect(cookieChange(unknown)?.value).toBeNull(); // the dead cookie is cleared
  });

  it('answers 405 to GET', async () => {
    const res = await fetch(`${o.base}/app/session/token`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST, OPTIONS');
  });
});

describe('reuse detection', () => {
  it('revokes the whole family when a cookie already rotated away comes back: 401 refresh_reused, then session_ended for the newest', async () => {
    const browser = new AppBrowser(o.base);
    await browser.login();
    const first = browser.cookie;
    const token = await browser.accessToken(); // first → second
    await browser.accessToken(); // second → third
    const reused = await present(first);
    expect(reused.status).toBe(401);
    expect(await errorCode(reused)).toBe('refresh_reused');
    expect(cookieChange(reused)?.value).toBeNull();
    const newest = await browser.token();
    expect(newest.status).toBe(401);
    expect(await errorCode(newest)).toBe('session_ended');
    expect(await errorCode(await me(token))).toBe('session_ended');
    expect((await stats(o.base)).app).toMatchObject({ reuses: 1, revoked: 1, tokens: 2 });
  });

  it('sees two calls racing with one cookie as reuse when there is no reuse interval (the default)', async () => {
    const browser = new AppBrowser(o.base);
    await browser.login();
    const shared = browser.cookie;
    const answers = await Promise.all([present(shared), present(shared)]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 401]);
    const loser = answers.find((r) => r.status === 401)!;
    expect(await errorCode(loser)).toBe('refresh_reused');
    const winner = answers.find((r) => r.status === 200)!;
    expect(await errorCode(await present(cookieChange(winner)!.value))).toBe('session_ended');
  });

  it("answers a rotated cookie within refreshReuseIntervalSeconds with a new token and the family's live cookie", async () => {
    expect(await (await control(o.base, '/__origin/config', { refreshReuseIntervalSeconds: 10 })).json()).toEqual({
      tokenLifetimeSeconds: 60,
      refreshReuseIntervalSeconds: 10,
    });
    const browser = new AppBrowser(o.base);
    const userId = await browser.login();
    const first = browser.cookie;
    const firstToken = await browser.accessToken();
    const live = browser.cookie;
    await advanceClock(o.base, 5000);
    const graced = await present(first);
    expect(graced.status).toBe(200);
    const body = (await graced.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(body.token_type).toBe('Bearer');
    expect(body.access_token).not.toBe(firstToken);
    expect((await verifyWithOrigin(o.base, body.access_token)).payload.sub).toBe(userId);
    // Both racing answers carry the same live cookie, so the browser keeps a live one whichever it stored last.
    expect(cookieChange(graced)?.value).toBe(live);
    expect((await browser.token()).status).toBe(200); // the live cookie still rotates normally
    expect((await stats(o.base)).app).toMatchObject({ tokens: 3, reuses: 0, revoked: 0 });
  });

  it('sees the rotated cookie as reuse once the clock is past the interval', async () => {
    await control(o.base, '/__origin/config', { refreshReuseIntervalSeconds: 10 });
    const browser = new AppBrowser(o.base);
    await browser.login();
    const first = browser.cookie;
    await browser.accessToken();
    await advanceClock(o.base, 9000);
    expect((await present(first)).status).toBe(200);
    await advanceClock(o.base, 2000);
    const late = await present(first);
    expect(late.status).toBe(401);
    expect(await errorCode(late)).toBe('refresh_reused');
    expect(await errorCode(await browser.token())).toBe('session_ended');
    expect((await stats(o.base)).app).toMatchObject({ reuses: 1, revoked: 1 });
  });

  it('lets two calls racing with one cookie both through within the interval, and leaves the browser a live cookie', async () => {
    await control(o.base, '/__origin/config', { refreshReuseIntervalSeconds: 10 });
    const browser = new AppBrowser(o.base);
    await browser.login();
    const shared = browser.cookie;
    const answers = await Promise.all([present(shared), present(shared), present(shared)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    const cookies = new Set(answers.map((r) => cookieChange(r)?.value));
    expect(cookies.size).toBe(1);
    expect((await present([...cookies][0]!)).status).toBe(200);
  });

  it("measures the interval from each cookie's own rotation, and keeps the override only until a reset", async () => {
    await control(o.base, '/__origin/config', { refreshReuseIntervalSeconds: 10 });
    const browser = new AppBrowser(o.base);
    await browser.login();
    const first = browser.cookie;
    await browser.accessToken();
    await advanceClock(o.base, 8000);
    const second = browser.cookie;
    await browser.accessToken();
    await advanceClock(o.base, 4000); // first rotated 12 s ago, second 4 s ago
    expect((await present(second)).status).toBe(200);
    await control(o.base, '/__origin/reset');
    expect((await (await fetch(`${o.base}/__origin/config`)).json()) as object).toEqual({ tokenLifetimeSeconds: 60, refreshReuseIntervalSeconds: 0 });
    expect(await errorCode(await present(first))).toBe('refresh_reused');
  });
});

describe('logout', () => {
  it('revokes the family, clears the cookie, and answers 200 again when repeated', async () => {
    const browser = new AppBrowser(o.base);
    await browser.login();
    const token = await browser.accessToken();
    const live = browser.cookie;
    const res = await browser.logout();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    const change = cookieChange(res);
    expect(change?.value).toBeNull();
    expect(change?.attributes).toMatch(/Path=\/app\/session/);
    expect(browser.cookie).toBeNull();
    const after = await present(live);
    expect(after.status).toBe(401);
    expect(await errorCode(after)).toBe('session_ended');
    expect(await errorCode(await me(token))).toBe('session_ended');
    expect((await browser.logout()).status).toBe(200);
    expect((await stats(o.base)).app).toMatchObject({ families: 1, revoked: 1 });
  });

  it('revokes the family from a cookie already rotated away too', async () => {
    const browser = new AppBrowser(o.base);
    await browser.login();
    const first = browser.cookie;
    await browser.accessToken();
    const res = await fetch(`${o.base}/app/session/logout`, { method: 'POST', headers: { cookie: `${COOKIE}=${first}` } });
    expect(res.status).toBe(200);
    expect(await errorCode(await browser.token())).toBe('session_ended');
  });
});

describe('the protected API', () => {
  it('answers { user_id } for a valid access token', async () => {
    const browser = new AppBrowser(o.base);
    const userId = await browser.login();
    const res = await me(await browser.accessToken());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ user_id: userId });
  });

  it("answers 401 token_expired once the origin's clock passes exp, though the token verifies by the real clock", async () => {
    const browser = new AppBrowser(o.base);
    await browser.login();
    const token = await browser.accessToken();
    await advanceClock(o.base, 59_000);
    expect((await me(token)).status).toBe(200);
    await advanceClock(o.base, 2000);
    const res = await me(token);
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('token_expired');
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it('answers 401 unauthenticated without a bearer token', async () => {
    for (const headers of [{}, { authorization: 'Basic dXNlcjpwYXNz' }, { authorization: 'Bearer ' }] as Record<string, string>[]) {
      const res = await fetch(`${o.base}/app/api/me`, { headers });
      expect(res.status).toBe(401);
      expect(await errorCode(res)).toBe('unauthenticated');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('answers 401 token_invalid to a token it did not sign for an app family', async ({ origins }) => {
    const browser = new AppBrowser(o.base);
    await browser.login();
    const token = await browser.accessToken();
    const [header = '', payload = '', signature = ''] = token.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'mallory' })).toString('base64url')}.${signature}`;
    const elsewhere = await origins.start();
    const foreign = new AppBrowser(elsewhere.base);
    await foreign.login();
    const clerk = new Browser(o.base);
    const clerkToken = await clerk.mintJwt(await clerk.signIn());
    for (const bad of ['garbage', tampered, await foreign.accessToken(), clerkToken]) {
      const res = await me(bad);
      expect(res.status).toBe(401);
      expect(await errorCode(res)).toBe('token_invalid');
    }
    expect(decodeProtectedHeader(clerkToken).alg).toBe('ES256'); // signed here, but a Clerk session's, not an app family's
  });
});

describe('the fault controls on the token route', () => {
  it('answers 503 in outage mode down, and rotates nothing', async () => {
    const browser = new AppBrowser(o.base);
    await browser.login();
    const before = browser.cookie;
    await control(o.base, '/__origin/outage', { mode: 'down' });
    const res = await browser.token();
    expect(res.status).toBe(503);
    expect(await errorCode(res)).toBe('service_unavailable');
    expect(browser.cookie).toBe(before);
    await control(o.base, '/__origin/outage', { mode: 'off' });
    expect((await browser.token()).status).toBe(200);
    expect((await stats(o.base)).app).toMatchObject({ tokens: 1, reuses: 0 });
  });

  it('answers the injected error status, and rotates nothing', async () => {
    const browser = new AppBrowser(o.base);
    await browser.login();
    await control(o.base, '/__origin/faults', { errorRate: 1, status: 429 });
    const res = await browser.token();
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    await control(o.base, '/__origin/faults', {});
    expect((await browser.token()).status).toBe(200);
  });

  it('adds the injected latency', async () => {
    const browser = new AppBrowser(o.base);
    await browser.login();
    await control(o.base, '/__origin/faults', { latencyMs: 300 });
    const started = performance.now();
    expect((await browser.token()).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('leaves login, logout and the protected API alone', async () => {
    await control(o.base, '/__origin/outage', { mode: 'down' });
    await control(o.base, '/__origin/faults', { errorRate: 1, status: 500 });
    const browser = new AppBrowser(o.base);
    await browser.login();
    expect((await browser.logout()).status).toBe(200);
  });

  it("states token times and Date on the origin's clock", async () => {
    const browser = new AppBrowser(o.base);
    await browser.login();
    await advanceClock(o.base, 3_600_000);
    const res = await browser.token();
    const { payload } = await verifyWithOrigin(o.base, ((await res.json()) as { access_token: string }).access_token);
    expect(payload.iat! - Date.now() / 1000).toBeGreaterThan(3590);
    expect(Date.parse(res.headers.get('date')!) / 1000).toBeCloseTo(payload.iat!, -1);
  });
});

describe('config, stats and reset', () => {
  it.each([
    [{ refreshReuseIntervalSeconds: -1 }],
    [{ refreshReuseIntervalSeconds: 301 }],
    [{ refreshReuseIntervalSeconds: 1.5 }],
    [{ refreshReuseIntervalSeconds: '10' }],
    [{ refreshReuseIntervalSeconds: null }],
    [{ refreshReuseIntervalSeconds: true }],
    [{ tokenLifetimeSeconds: 30, refreshReuseIntervalSeconds: 301 }],
    [{ tokenLifetimeSeconds: 19, refreshReuseIntervalSeconds: 10 }],
    [{}],
  ])('answers 422 form_param_invalid to /__origin/config %j and changes nothing', async (body) => {
    const res = await control(o.base, '/__origin/config', body);
    expect(res.status).toBe(422);
    expect(await errorCode(res)).toBe('form_param_invalid');
    expect(await (await fetch(`${o.base}/__origin/config`)).json()).toEqual({ tokenLifetimeSeconds: 60, refreshReuseIntervalSeconds: 0 });
  });

  it('accepts refreshReuseIntervalSeconds from 0 to 300, alone or with tokenLifetimeSeconds', async () => {
    expect(await (await control(o.base, '/__origin/config', { refreshReuseIntervalSeconds: 300 })).json()).toEqual({
      tokenLifetimeSeconds: 60,
      refreshReuseIntervalSeconds: 300,
    });
    expect(await (await control(o.base, '/__origin/config', { tokenLifetimeSeconds: 30, refreshReuseIntervalSeconds: 0 })).json()).toEqual({
      tokenLifetimeSeconds: 30,
      refreshReuseIntervalSeconds: 0,
    });
  });

  it('counts tokens, reuses, families and revocations, and the requests of each route', async () => {
    const a = new AppBrowser(o.base);
    const b = new AppBrowser(o.base);
    await a.login();
    await b.login();
    const old = a.cookie;
    const token = await a.accessToken();
    await a.accessToken();
    await b.accessToken();
    await present(old); // reuse: a's family revoked
    await present(null); // 401, not counted as a token
    await b.logout();
    await me(token);
    const s = await stats(o.base);
    expect(s.app).toEqual({ tokens: 3, reuses: 1, families: 2, revoked: 2 });
    expect(s.requests).toMatchObject({ app_login: 2, app_token: 5, app_logout: 1, app_me: 1 });
    expect(s.mints).toBe(0); // the frontend API's counter is its own
  });

  it('clears the counters on reset but keeps the families, so a cookie held across a reset still works', async () => {
    const browser = new AppBrowser(o.base);
    await browser.login();
    await browser.accessToken();
    await control(o.base, '/__origin/reset');
    expect((await stats(o.base)).app).toEqual({ tokens: 0, reuses: 0, families: 0, revoked: 0 });
    expect((await browser.token()).status).toBe(200);
    o.origin.reset();
    expect(o.origin.stats().app.tokens).toBe(0);
  });
});

describe('CORS', () => {
  it('answers allowedOrigins with credentials and other origins without CORS headers', async ({ origins }) => {
    const app = 'http://localhost:5173';
    const served = await origins.start({ allowedOrigins: [app] });
    const browser = new AppBrowser(served.base);
    await browser.login();
    const allowed = await browser.fetch('/app/session/token', { method: 'POST', headers: { origin: app } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(app);
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    const other = await browser.fetch('/app/session/token', { method: 'POST', headers: { origin: 'http://evil.localhost:5173' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${served.base}/app/api/me`, {
      method: 'OPTIONS',
      headers: { origin: app, 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization');
  });
});
