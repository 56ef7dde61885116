import { afterAll, beforeAll, describe, expect } from 'vitest';
import { listen } from '../support/servers.ts';
import { Browser, errorCode, it, rawRequest, startOrigin, stats, verifyWithOrigin, type RunningOrigin } from './harness.ts';

let o: RunningOrigin;

beforeAll(async () => {
  o = await startOrigin({
    faults: true,
    templates: {
      api: { claims: { aud: 'api', role: 'tester', sub: 'forged', org_id: 'forged' } },
      short: { lifetimeSeconds: 20 },
      long: { lifetimeSeconds: 7200 },
    },
  });
});
afterAll(() => o.close());

describe('sign-in and the client', () => {
  it('answers { response: null } to a browser without a cookie or with an unknown one', async () => {
    const fresh = new Browser(o.base);
    expect(await (await fresh.fetch('/v1/client')).json()).toEqual({ response: null });
    fresh.cookie = 'client_unknown';
    expect(await (await fresh.fetch('/v1/client')).json()).toEqual({ response: null });
  });

  it('signs in with a form identifier, sets an HttpOnly SameSite=Lax cookie on / and answers the active session', async () => {
    const browser = new Browser(o.base);
    const res = await browser.fetch('/v1/client/sign_ins', { method: 'POST', body: new URLSearchParams({ identifier: 'alice@example.com' }) });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^__client=[A-Za-z0-9_-]+; /);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/');
    const body = (await res.json()) as { response: { id: string; status: string; user_id: string } };
    expect(Object.keys(body.response).sort()).toEqual(['id', 'status', 'user_id']);
    expect(body.response.status).toBe('active');
    expect(body.response.id).toMatch(/^sess_[A-Za-z0-9_-]+$/);
    expect(body.response.user_id).toMatch(/^user_[A-Za-z0-9_-]+$/);
  });

  it('gives one identifier the same user id every time, and a second sign-in a new session on the same client', async () => {
    const browser = new Browser(o.base);
    const first = await browser.signIn('bob');
    const cookie = browser.cookie;
    const second = await browser.signIn('bob');
    expect(browser.cookie).toBe(cookie);
    expect(second).not.toBe(first);
    const client = (await (await browser.fetch('/v1/client')).json()) as {
      response: { sessions: { id: string; status: string; user_id: string; expire_at: number }[]; last_active_session_id: string };
    };
    expect(client.response.sessions.map((s) => s.id)).toEqual([first, second]);
    expect(client.response.last_active_session_id).toBe(second);
    const [a, b] = client.response.sessions;
    expect(a?.user_id).toBe(b?.user_id);
    expect(Object.keys(a ?? {}).sort()).toEqual(['expire_at', 'id', 'status', 'user_id']);
    expect(a?.status).toBe('active');
    expect(a?.expire_at).toBeGreaterThan(Date.now() + 6 * 24 * 3600_000);
  });

  it('refuses a sign-in without an identifier with 422 form_param_missing and creates nothing', async () => {
    const browser = new Browser(o.base);
    const res = await browser.fetch('/v1/client/sign_ins', { method: 'POST', body: new URLSearchParams({}) });
    expect(res.status).toBe(422);
    expect(await errorCode(res)).toBe('form_param_missing');
    expect(browser.cookie).toBeNull();
  });
});

describe('minting', () => {
  it('mints an ES256 token that verifies against the JWKS and carries every claim and header of the SPEC', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn('carol');
    const res = await browser.mint(sid);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('date')).not.toBeNull();
    const body = (await res.json()) as { object: string; jwt: string };
    expect(body.object).toBe('token');
    const { payload, header } = await verifyWithOrigin(o.base, body.jwt);
    expect(header.alg).toBe('ES256');
    expect(typeof header.kid).toBe('string');
    expect(header.oiat).toBe(payload.iat);
    expect(payload.sid).toBe(sid);
    expect(payload.sub).toMatch(/^user_/);
    expect(payload.iss).toBe(o.base);
    expect(payload.azp).toBe(o.base);
    expect(typeof payload.nbf).toBe('number');
    expect(payload.nbf).toBeLessThanOrEqual(payload.iat ?? 0);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(60);
    expect(payload.org_id).toBeUndefined();
  });

  it('serves a JWKS whose key names the kid of the tokens', async () => {
    const res = await fetch(`${o.base}/.well-known/jwks.json`);
    const jwks = (await res.json()) as { keys: { kid: string; kty: string; crv: string; alg: string; d?: string }[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(jwks.keys[0]?.d).toBeUndefined();
    expect(await o.origin.jwks()).toEqual(jwks);
  });

  it('sets azp from the Origin header and org_id from organization_id', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    const jwt = await browser.mintJwt(sid, { form: { organization_id: 'org_42' }, headers: { origin: 'http://app.localhost:5173' } });
    const { payload } = await verifyWithOrigin(o.base, jwt);
    expect(payload.azp).toBe('http://app.localhost:5173');
    expect(payload.org_id).toBe('org_42');
  });

  it("adds a template's claims without letting them replace the origin's own", async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    const { payload } = await verifyWithOrigin(o.base, await browser.mintJwt(sid, { template: 'api' }));
    expect(payload.aud).toBe('api');
    expect(payload.role).toBe('tester');
    expect(payload.sub).not.toBe('forged');
    expect(payload.org_id).toBeUndefined();
    expect(payload.sid).toBe(sid);
  });

  it.each<{ what: string; template: string | undefined; form: Record<string, string>; lifetime: number }>([
    { what: 'the default lifetime', template: undefined, form: {}, lifetime: 60 },
    { what: 'a template lifetime', template: 'short', form: {}, lifetime: 20 },
    { what: 'a long template lifetime', template: 'long', form: {}, lifetime: 7200 },
    { what: 'expires_in_seconds without a template', template: undefined, form: { expires_in_seconds: '3600' }, lifetime: 3600 },
    { what: 'expires_in_seconds over a template lifetime', template: 'short', form: { expires_in_seconds: '30' }, lifetime: 30 },
    { what: 'the largest expires_in_seconds', template: undefined, form: { expires_in_seconds: '315360000' }, lifetime: 315_360_000 },
  ])('gives exp − iat from $what', async ({ template, form, lifetime }) => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    const { payload } = await verifyWithOrigin(o.base, await browser.mintJwt(sid, { ...(template ? { template } : {}), form }));
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(lifetime);
  });

  it('accepts expires_in_seconds as a JSON number too', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    const res = await browser.fetch(`/v1/client/sessions/${sid}/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ expires_in_seconds: 45 }),
    });
    const { payload } = await verifyWithOrigin(o.base, ((await res.json()) as { jwt: string }).jwt);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(45);
  });

  it('counts each 2xx mint in stats, in total and per session', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    const before = await stats(o.base);
    await browser.mintJwt(sid);
    await browser.mintJwt(sid, { template: 'api' });
    const after = await stats(o.base);
    expect(after.mints - before.mints).toBe(2);
    expect(after.sessions[sid]).toEqual({ mints: 2 });
    expect((after.requests.mint ?? 0) - (before.requests.mint ?? 0)).toBe(2);
  });
});

describe('ending a session', () => {
  it('ends the session: the answer shows it ended, the client no longer lists it, and minting answers 401 session_ended', async () => {
    const browser = new Browser(o.base);
    const keep = await browser.signIn();
    const sid = await browser.signIn();
    const res = await browser.fetch(`/v1/client/sessions/${sid}/end`, { method: 'POST' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { response: { id: string; status: string; user_id: string; expire_at: number } };
    expect(body.response).toMatchObject({ id: sid, status: 'ended' });
    const client = (await (await browser.fetch('/v1/client')).json()) as { response: { sessions: { id: string }[]; last_active_session_id: string | null } };
    expect(client.response.sessions.map((s) => s.id)).toEqual([keep]);
    expect(client.response.last_active_session_id).toBe(keep);
    const mint = await browser.mint(sid);
    expect(mint.status).toBe(401);
    expect(await errorCode(mint)).toBe('session_ended');
  });

  it('answers an ended client with an empty session list and a null last active session', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    await browser.fetch(`/v1/client/sessions/${sid}/end`, { method: 'POST' });
    expect(await (await browser.fetch('/v1/client')).json()).toEqual({ response: { sessions: [], last_active_session_id: null } });
  });

  it("refuses to end another client's session (404 session_not_found) or to end without a cookie (401 client_not_found)", async () => {
    const alice = new Browser(o.base);
    const mallory = new Browser(o.base);
    const sid = await alice.signIn();
    await mallory.signIn();
    const other = await mallory.fetch(`/v1/client/sessions/${sid}/end`, { method: 'POST' });
    expect(other.status).toBe(404);
    expect(await errorCode(other)).toBe('session_not_found');
    const anonymous = await new Browser(o.base).fetch(`/v1/client/sessions/${sid}/end`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    expect(await errorCode(anonymous)).toBe('client_not_found');
    await alice.mintJwt(sid);
  });
});

describe('requests the origin does not serve', () => {
  it('answers 404 not_found to an unknown path when no next handler is given', async () => {
    const res = await fetch(`${o.base}/nothing/here`);
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe('not_found');
  });

  it('passes an unknown path to the next handler when one is given', async () => {
    let passed = false;
    const server = await listen((req, res) =>
      o.origin(req, res, () => {
        passed = true;
        res.statusCode = 299;
        res.end();
      }),
    );
    const res = await fetch(`${server.base}/app/page`);
    expect(res.status).toBe(299);
    expect(passed).toBe(true);
    const served = await fetch(`${server.base}/v1/client`);
    expect(await served.json()).toEqual({ response: null });
    await server.close();
  });

  it('answers 405 method_not_allowed with an Allow header to a wrong method on a known path', async () => {
    const res = await fetch(`${o.base}/v1/client`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toContain('GET');
    expect(await errorCode(res)).toBe('method_not_allowed');
  });

  it('answers 413 payload_too_large to a body over 64 KB and mints nothing', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    const before = await stats(o.base);
    const res = await browser.fetch(`/v1/client/sessions/${sid}/tokens`, { method: 'POST', body: new URLSearchParams({ pad: 'x'.repeat(70_000) }) });
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe('payload_too_large');
    expect((await stats(o.base)).mints).toBe(before.mints);
  });

  it('answers 415 to a body that is neither a form nor JSON', async () => {
    const browser = new Browser(o.base);
    const sid = await browser.signIn();
    const res = await browser.fetch(`/v1/client/sessions/${sid}/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'expires_in_seconds=60',
    });
    expect(res.status).toBe(415);
    expect(await errorCode(res)).toBe('unsupported_media_type');
  });

  it('answers 400 invalid_host to a request without a usable Host header', async () => {
    const res = await rawRequest(o.base, { method: 'GET', path: '/v1/client', headers: { host: 'a b' } });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ errors: [{ code: 'invalid_host' }] });
  });
});

describe('the issuer option', () => {
  it('sets iss (and the default azp) to the configured issuer', async ({ origins }) => {
    const other = await origins.start({ issuer: 'https://clerk.example.test' });
    const browser = new Browser(other.base);
    const sid = await browser.signIn();
    const { payload } = await verifyWithOrigin(other.base, await browser.mintJwt(sid));
    expect(payload.iss).toBe('https://clerk.example.test');
    expect(payload.azp).toBe('https://clerk.example.test');
  });
});
