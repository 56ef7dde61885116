import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, errorCode, startOrigin, stats, verifyWithOrigin, type RunningOrigin } from './harness.ts';

const KEY = 'sk_test_harness';
let clock = Date.now();
let o: RunningOrigin;

beforeAll(async () => {
  o = await startOrigin({ faults: true, templates: { api: { claims: { aud: 'api' }, lifetimeSeconds: 120 } }, now: () => clock });
});
afterAll(() => o.close());

function backend(path: string, body: unknown = {}, key = KEY): Promise<Response> {
  return fetch(`${o.base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

interface TestSessionTokenJson {
  object: string;
  id: string;
  user_id: string;
  token: string;
  status: string;
  url: string;
  created_at: number;
  updated_at: number;
}

async function createToken(body: Record<string, unknown>): Promise<TestSessionTokenJson> {
  const res = await backend('/v1/test_session_tokens', body);
  expect(res.status).toBe(200);
  return (await res.json()) as TestSessionTokenJson;
}

/** Opens the token's URL as a browser would (relative to the origin it names). */
function open(browser: Browser, url: string): Promise<Response> {
  const target = new URL(url);
  return browser.fetch(`${target.pathname}${target.search}`);
}

describe('the backend token route', () => {
  it('mints a token for any session with the secret key, with a template and expires_in_seconds, without counting a frontend mint', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    const before = await stats(o.base);

    const plain = await backend(`/v1/sessions/${sid}/tokens`);
    expect(plain.status).toBe(200);
    const plainBody = (await plain.json()) as { object: string; jwt: string };
    expect(plainBody.object).toBe('token');
    const { payload, header } = await verifyWithOrigin(o.base, plainBody.jwt);
    expect(payload.sid).toBe(sid);
    expect(header.oiat).toBe(payload.iat);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(60);

    const templated = (await (await backend(`/v1/sessions/${sid}/tokens/api`)).json()) as { jwt: string };
    const t = await verifyWithOrigin(o.base, templated.jwt);
    expect(t.payload.aud).toBe('api');
    expect((t.payload.exp ?? 0) - (t.payload.iat ?? 0)).toBe(120);

    for (const [path, lifetime] of [
      [`/v1/sessions/${sid}/tokens`, 900],
      [`/v1/sessions/${sid}/tokens/api`, 30],
    ] as const) {
      const res = (await (await backend(path, { expires_in_seconds: lifetime })).json()) as { jwt: string };
      const v = await verifyWithOrigin(o.base, res.jwt);
      expect((v.payload.exp ?? 0) - (v.payload.iat ?? 0)).toBe(lifetime);
    }

    const after = await stats(o.base);
    expect(after.mints).toBe(before.mints);
    expect(after.sessions[sid]).toBeUndefined();
    expect((after.requests.backend_mint ?? 0) - (before.requests.backend_mint ?? 0)).toBe(4);
  });

  it('accepts a POST without a body', async () => {
    const sid = await new Browser(o.base).signIn();
    const res = await fetch(`${o.base}/v1/sessions/${sid}/tokens`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(200);
  });
});

describe('test session tokens', () => {
  it('creates a pending token with the SPEC shape, a URL on the origin and times in milliseconds', async () => {
    const created = await createToken({ user_id: 'user_tst_shape' });
    expect(Object.keys(created).sort()).toEqual(['created_at', 'id', 'object', 'status', 'token', 'updated_at', 'url', 'user_id']);
    expect(created).toMatchObject({ object: 'test_session_token', user_id: 'user_tst_shape', status: 'pending' });
    expect(created.id).toMatch(/^tst_[A-Za-z0-9_-]+$/);
    expect(created.token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(created.url).toBe(`${o.base}/v1/test_session_tokens/accept?token=${created.token}`);
    expect(created.created_at).toBe(clock);
    expect(created.updated_at).toBe(clock);
    const read = await fetch(`${o.base}/v1/test_session_tokens/${created.id}`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(await read.json()).toEqual(created);
  });

  it('signs a browser without a client in when its URL is opened: cookie, session, 302 to redirect_url, status accepted', async () => {
    const created = await createToken({ user_id: 'user_tst_accept', redirect_url: '/app?x=1' });
    const browser = new Browser(o.base);
    const res = await open(browser, created.url);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${o.base}/app?x=1`);
    expect(res.headers.get('set-cookie')).toMatch(/^__client=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax/);
    const client = (await (await browser.fetch('/v1/client')).json()) as {
      response: { sessions: { id: string; user_id: string; expire_at: number }[]; last_active_session_id: string };
    };
    expect(client.response.sessions).toHaveLength(1);
    const session = client.response.sessions[0];
    expect(session?.user_id).toBe('user_tst_accept');
    expect(session?.expire_at).toBe(clock + 1800 * 1000);
    expect(client.response.last_active_session_id).toBe(session?.id);
    const token = await browser.mintJwt(session?.id ?? '');
    expect((await verifyWithOrigin(o.base, token)).payload.sub).toBe('user_tst_accept');
    const read = (await (
      await fetch(`${o.base}/v1/test_session_tokens/${created.id}`, { headers: { authorization: `Bearer ${KEY}` } })
    ).json()) as TestSessionTokenJson;
    expect(read.status).toBe('accepted');
  });

  it('redirects to / by default and adds the session to a browser that already has a client', async () => {
    const browser = new Browser(o.base);
    const own = await browser.signIn();
    const cookie = browser.cookie;
    const created = await createToken({ user_id: 'user_tst_existing' });
    const res = await open(browser, created.url);
    expect(res.headers.get('location')).toBe(`${o.base}/`);
    expect(browser.cookie).toBe(cookie);
    const client = (await (await browser.fetch('/v1/client')).json()) as { response: { sessions: { id: string }[]; last_active_session_id: string } };
    expect(client.response.sessions).toHaveLength(2);
    expect(client.response.sessions[0]?.id).toBe(own);
    expect(client.response.last_active_session_id).toBe(client.response.sessions[1]?.id);
  });

  it('answers a second opening with 410 test_session_token_used as an HTML page, creating no session', async () => {
    const created = await createToken({ user_id: 'user_tst_twice' });
    const browser = new Browser(o.base);
    await open(browser, created.url);
    const again = await open(browser, created.url);
    expect(again.status).toBe(410);
    expect(again.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await again.text()).toContain('test_session_token_used');
    const client = (await (await browser.fetch('/v1/client')).json()) as { response: { sessions: unknown[] } };
    expect(client.response.sessions).toHaveLength(1);
  });

  it('answers a revoked token with 410 test_session_token_revoked as an HTML page, signing nobody in', async () => {
    const created = await createToken({ user_id: 'user_tst_revoked' });
    const revoked = await backend(`/v1/test_session_tokens/${created.id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as TestSessionTokenJson).status).toBe('revoked');
    const browser = new Browser(o.base);
    const res = await open(browser, created.url);
    expect(res.status).toBe(410);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('test_session_token_revoked');
    expect(browser.cookie).toBeNull();
  });

  it('answers an unknown token with a 404 HTML page that does not echo the input unescaped', async () => {
    const res = await fetch(`${o.base}/v1/test_session_tokens/accept?token=${encodeURIComponent('<script>alert(1)</script>')}`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('test_session_token_not_found');
    expect(html).not.toContain('<script>');
  });

  it('ends the session an accepted token created when the token is revoked', async () => {
    const created = await createToken({ user_id: 'user_tst_revoke_after' });
    const browser = new Browser(o.base);
    await open(browser, created.url);
    const client = (await (await browser.fetch('/v1/client')).json()) as { response: { sessions: { id: string }[] } };
    const sid = client.response.sessions[0]?.id ?? '';
    await browser.mintJwt(sid);
    const revoked = (await (await backend(`/v1/test_session_tokens/${created.id}/revoke`)).json()) as TestSessionTokenJson;
    expect(revoked.status).toBe('revoked');
    const mint = await browser.mint(sid);
    expect(mint.status).toBe(401);
    expect(await errorCode(mint)).toBe('session_ended');
    expect(await (await browser.fetch('/v1/client')).json()).toEqual({ response: { sessions: [], last_active_session_id: null } });
  });

  it('expires an accepted session after session_max_duration_in_seconds: 401 session_expired, and no longer listed', async () => {
    const created = await createToken({ user_id: 'user_tst_expiry', session_max_duration_in_seconds: 60 });
    const browser = new Browser(o.base);
    await open(browser, created.url);
    const client = (await (await browser.fetch('/v1/client')).json()) as { response: { sessions: { id: string; expire_at: number }[] } };
    const session = client.response.sessions[0];
    expect(session?.expire_at).toBe(clock + 60_000);
    const sid = session?.id ?? '';
    await browser.mintJwt(sid);
    clock += 60_000;
    try {
      const before = await stats(o.base);
      const mint = await browser.mint(sid);
      expect(mint.status).toBe(401);
      expect(await errorCode(mint)).toBe('session_expired');
      expect((await stats(o.base)).mints).toBe(before.mints);
      const backendMint = await backend(`/v1/sessions/${sid}/tokens`);
      expect(backendMint.status).toBe(401);
      expect(await errorCode(backendMint)).toBe('session_expired');
      expect(await (await browser.fetch('/v1/client')).json()).toEqual({ response: { sessions: [], last_active_session_id: null } });
    } finally {
      clock = Date.now();
    }
  });

  it.each([
    ['another host', 'https://evil.com/'],
    ['a protocol-relative URL', '//evil.com'],
    ['a backslash path', '/\\evil.com'],
    ['another port', 'http://127.0.0.1:1/'],
    ['another scheme', 'javascript:alert(1)'],
    ['a non-string', 42],
  ])('refuses a redirect_url to %s with 422 form_param_invalid and creates nothing', async (_what, redirect) => {
    const res = await backend('/v1/test_session_tokens', { user_id: 'user_tst_redirect', redirect_url: redirect });
    expect(res.status).toBe(422);
    expect(await errorCode(res)).toBe('form_param_invalid');
  });

  it('accepts an absolute redirect_url on the origin itself', async () => {
    const created = await createToken({ user_id: 'user_tst_abs', redirect_url: `${o.base}/dashboard#top` });
    const res = await open(new Browser(o.base), created.url);
    expect(res.headers.get('location')).toBe(`${o.base}/dashboard#top`);
  });

  it('counts each test session token route under its own name', async () => {
    const before = await stats(o.base);
    const created = await createToken({ user_id: 'user_tst_count' });
    await fetch(`${o.base}/v1/test_session_tokens/${created.id}`, { headers: { authorization: `Bearer ${KEY}` } });
    await open(new Browser(o.base), created.url);
    await backend(`/v1/test_session_tokens/${created.id}/revoke`);
    const after = await stats(o.base);
    for (const name of ['test_session_token_create', 'test_session_token_get', 'test_session_token_accept', 'test_session_token_revoke']) {
      expect((after.requests[name] ?? 0) - (before.requests[name] ?? 0)).toBe(1);
    }
  });
});
