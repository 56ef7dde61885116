/**
 * The development better-auth server, over real HTTP with real cookies: what section 13's endpoint
 * mode and the benchmark rely on (the session cookie, `GET /api/auth/token`, the JWKS, sign-out) and
 * what the set-up adds (the lifetime, the counters, the origin rules, the Vite plugin).
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createServer as createViteServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { betterAuthPlugin, createBetterAuthServer, startBetterAuth, type BetterAuthStats, type RunningBetterAuth } from '../../dev/betterAuth/index.ts';

/** Cookies as a browser keeps them for one origin: a name's last value, gone when set with Max-Age=0. */
class CookieJar {
  readonly #cookies = new Map<string, string>();
  /** Every Set-Cookie line seen, for assertions on attributes. */
  readonly seen: string[] = [];

  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      this.seen.push(line);
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const expired = attributes.some((a) => /^max-age=0$/i.test(a));
      if (expired) this.#cookies.delete(name);
      else this.#cookies.set(name, pair.slice(eq + 1));
    }
  }

  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

const SESSION_COOKIE = 'better-auth.session_token';
const PASSWORD = 'correct horse battery staple';

let ba: RunningBetterAuth;
let email: string;
let userId: string;
const jar = new CookieJar();

/** A fetch that sends the jar's cookies and keeps what comes back, as a browser tab would. */
async function send(path: string, init: RequestInit & { jar?: CookieJar; json?: unknown; origin?: string | null } = {}): Promise<Response> {
  const { jar: cookies, json, origin, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (cookies?.header()) headers.set('cookie', cookies.header());
  if (json !== undefined) headers.set('content-type', 'application/json');
  // A browser sends Origin with every POST; better-auth refuses a cookie-carrying POST without one.
  if (origin !== null && (origin !== undefined || (rest.method ?? 'GET') !== 'GET')) headers.set('origin', origin ?? ba.url);
  const res = await fetch(`${ba.url}${path}`, { ...rest, headers, body: json === undefined ? rest.body : JSON.stringify(json) });
  cookies?.take(res);
  return res;
}

async function tokenOf(cookies: CookieJar): Promise<string> {
  const res = await send('/api/auth/token', { jar: cookies });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { token?: unknown };
  expect(typeof body.token).toBe('string');
  return body.token as string;
}

beforeAll(async () => {
  ba = await startBetterAuth({ tokenLifetimeSeconds: 20, quiet: true });
  email = `ada.${Date.now()}@example.com`;
});
afterAll(() => ba.close());

describe('a better-auth server on loopback', () => {
  it('signs up by email and sets the HttpOnly, SameSite=Lax session cookie', async () => {
    const res = await send('/api/auth/sign-up/email', { method: 'POST', jar, json: { email, password: PASSWORD, name: 'Ada' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { user: { id: string; email: string } };
    expect(body.user.email).toBe(email);
    userId = body.user.id;
    expect(jar.get(SESSION_COOKIE)).toBeTruthy();
    const line = jar.seen.find((l) => l.startsWith(`${SESSION_COOKIE}=`)) ?? '';
    expect(line).toMatch(/; HttpOnly/);
    expect(line).toMatch(/; SameSite=Lax/);
    expect(line).toMatch(/; Path=\//);
    expect(line).not.toMatch(/; Secure/); // http on loopback
  });

  it('answers GET /api/auth/token with an EdDSA JWT of the user, signed by a key of its JWKS, living the configured 20 s', async () => {
    const before = jar.seen.length;
    const token = await tokenOf(jar);
    expect(decodeProtectedHeader(token).alg).toBe('EdDSA');
    const jwks = createRemoteJWKSet(new URL(`${ba.url}/api/auth/jwks`));
    const { payload } = await jwtVerify(token, jwks, { issuer: ba.url, audience: ba.url, algorithms: ['EdDSA'] });
    expect(payload.sub).toBe(userId);
    expect(typeof payload.iat).toBe('number');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(20);
    // The token route sets no cookie: nothing rotates, so tabs asking at once cannot trip over each other.
    expect(jar.seen.length).toBe(before);
  });

  it('signs in by email on a second cookie jar, a second session of the same user', async () => {
    const other = new CookieJar();
    const res = await send('/api/auth/sign-in/email', { method: 'POST', jar: other, json: { email, password: PASSWORD } });
    expect(res.status).toBe(200);
    expect(other.get(SESSION_COOKIE)).toBeTruthy();
    expect(other.get(SESSION_COOKIE)).not.toBe(jar.get(SESSION_COOKIE));
    const { payload } = await jwtVerify(await tokenOf(other), createRemoteJWKSet(new URL(`${ba.url}/api/auth/jwks`)));
    expect(payload.sub).toBe(userId);
  });

  it('answers 401 to a token request without a cookie', async () => {
    const res = await send('/api/auth/token');
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('ends only the signed-out session: its cookie is cleared and its token route answers 401, the other session goes on', async () => {
    const other = new CookieJar();
    await send('/api/auth/sign-in/email', { method: 'POST', jar: other, json: { email, password: PASSWORD } });
    const stale = jar.header();
    const res = await send('/api/auth/sign-out', { method: 'POST', jar });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true });
    expect(jar.get(SESSION_COOKIE)).toBeUndefined();
    // A tab that still presents the old cookie is refused.
    const again = await fetch(`${ba.url}/api/auth/token`, { headers: { cookie: stale } });
    expect(again.status).toBe(401);
    expect(await tokenOf(other)).toBeTruthy();
  });

  it('refuses a cookie-carrying POST from an origin it does not trust, and one without an Origin, even under NODE_ENV=test', async () => {
    const other = new CookieJar();
    await send('/api/auth/sign-in/email', { method: 'POST', jar: other, json: { email, password: PASSWORD } });
    const foreign = await send('/api/auth/sign-out', { method: 'POST', jar: other, origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ code: 'INVALID_ORIGIN' });
    const none = await send('/api/auth/sign-out', { method: 'POST', jar: other, origin: null });
    expect(none.status).toBe(403);
    expect(await none.json()).toMatchObject({ code: 'MISSING_OR_NULL_ORIGIN' });
    expect(await tokenOf(other)).toBeTruthy();
    // localhost at the same port is trusted too: a person may open the app under either name.
    expect((await send('/api/auth/sign-out', { method: 'POST', jar: other, origin: ba.url.replace('127.0.0.1', 'localhost') })).status).toBe(200);
  });

  it('counts the token answers it gave, every token request, and every request, in Node and over HTTP', async () => {
    ba.reset();
    expect(ba.stats()).toEqual({ tokens: 0, tokenRequests: 0, requests: 0, routes: {} });
    const cookies = new CookieJar();
    await send('/api/auth/sign-up/email', {
      method: 'POST',
      jar: cookies,
      json: { email: `grace.${Date.now()}@example.com`, password: PASSWORD, name: 'Grace' },
    });
    await tokenOf(cookies);
    await tokenOf(cookies);
    expect((await send('/api/auth/token')).status).toBe(401);
    await send('/api/auth/sign-out', { method: 'POST', jar: cookies });
    const expected: BetterAuthStats = {
      tokens: 2,
      tokenRequests: 3,
      requests: 5,
      routes: { 'POST /api/auth/sign-up/email': 1, 'GET /api/auth/token': 3, 'POST /api/auth/sign-out': 1 },
    };
    expect(ba.stats()).toEqual(expected);
    // Reading the counters is not counted.
    const overHttp = await fetch(`${ba.url}/api/auth/__stats`);
    expect(overHttp.status).toBe(200);
    expect(await overHttp.json()).toEqual(expected);
    expect(ba.stats()).toEqual(expected);
  });

  it('forgets its users on reset (over HTTP too) but keeps its signing key', async () => {
    const cookies = new CookieJar();
    const who = `linus.${Date.now()}@example.com`;
    await send('/api/auth/sign-up/email', { method: 'POST', jar: cookies, json: { email: who, password: PASSWORD, name: 'Linus' } });
    const { kid } = decodeProtectedHeader(await tokenOf(cookies));
    expect((await fetch(`${ba.url}/api/auth/__reset`, { method: 'POST' })).status).toBe(200);
    expect(ba.stats().requests).toBe(0);
    expect((await send('/api/auth/token', { jar: cookies })).status).toBe(401);
    expect((await send('/api/auth/sign-in/email', { method: 'POST', json: { email: who, password: PASSWORD } })).status).toBe(401);
    const fresh = new CookieJar();
    await send('/api/auth/sign-up/email', { method: 'POST', jar: fresh, json: { email: who, password: PASSWORD, name: 'Linus' } });
    expect(decodeProtectedHeader(await tokenOf(fresh)).kid).toBe(kid);
  });

  it('answers only loopback Host names', async () => {
    const { port } = ba.server.address() as AddressInfo;
    const status = await new Promise<number | undefined>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/api/auth/jwks', headers: { host: `rebound.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(403);
  });
});

describe('createBetterAuthServer', () => {
  it('signs tokens for 60 s by default, as the other development origins do', async () => {
    const local = createBetterAuthServer({ baseURL: 'http://127.0.0.1:1', quiet: true });
    expect(local.tokenLifetimeSeconds).toBe(60);
    // In-process, through better-auth's own API: the same plugin, no socket needed.
    const { headers } = await local.auth.api.signUpEmail({ body: { email: 'inproc@example.com', password: PASSWORD, name: 'In' }, returnHeaders: true });
    const cookie = (headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const { token } = await local.auth.api.getToken({ headers: new Headers({ cookie }) });
    const [, body = ''] = token.split('.');
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as { iat: number; exp: number };
    expect(payload.exp - payload.iat).toBe(60);
  });

  it('rejects a bad baseURL, lifetime or trusted origin', () => {
    expect(() => createBetterAuthServer({ baseURL: 'localhost:3000' })).toThrow(TypeError);
    expect(() => createBetterAuthServer({ baseURL: 'ftp://127.0.0.1' })).toThrow(/baseURL/);
    expect(() => createBetterAuthServer({ baseURL: 'http://127.0.0.1', tokenLifetimeSeconds: 0 })).toThrow(/tokenLifetimeSeconds/);
    expect(() => createBetterAuthServer({ baseURL: 'http://127.0.0.1', tokenLifetimeSeconds: 1.5 })).toThrow(/tokenLifetimeSeconds/);
    expect(() => createBetterAuthServer({ baseURL: 'http://127.0.0.1', trustedOrigins: ['example.com'] })).toThrow(/trustedOrigins/);
  });

  it('passes other paths to next, or answers them 404 without next', async () => {
    const local = createBetterAuthServer({ baseURL: 'http://127.0.0.1:1', quiet: true });
    let passed = false;
    const { createServer } = await import('node:http');
    const server = createServer((req, res) =>
      local.handler(
        req,
        res,
        req.url === '/with-next'
          ? () => {
              passed = true;
              res.end('next');
            }
          : undefined,
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/with-next`)).text()).toBe('next');
      expect(passed).toBe(true);
      expect((await fetch(`${base}/api/authx`)).status).toBe(404);
      expect((await fetch(`${base}/api/auth/jwks`)).status).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('gives a trusted origin on another port CORS with credentials, and no other origin', async () => {
    const app = 'http://localhost:5173';
    const cross = await startBetterAuth({ trustedOrigins: [app], quiet: true });
    try {
      const preflight = await fetch(`${cross.url}/api/auth/token`, { method: 'OPTIONS', headers: { origin: app, 'access-control-request-method': 'GET' } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(app);
      expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
      const answer = await fetch(`${cross.url}/api/auth/token`, { headers: { origin: app } });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('access-control-allow-origin')).toBe(app);
      const stranger = await fetch(`${cross.url}/api/auth/token`, { headers: { origin: 'http://evil.example' } });
      expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await cross.close();
    }
  });
});

describe('betterAuthPlugin', () => {
  it("mounts better-auth on a Vite dev server at the server's own URL and leaves every other path to Vite", async () => {
    const plugin = betterAuthPlugin({ tokenLifetimeSeconds: 20, quiet: true });
    expect(plugin.api.server()).toBeNull();
    const vite = await createViteServer({
      configFile: false,
      root: import.meta.dirname,
      logLevel: 'silent',
      appType: 'custom',
      plugins: [plugin],
      server: { host: '127.0.0.1', port: 0, ws: false },
      optimizeDeps: { noDiscovery: true, include: [] },
    });
    await vite.listen();
    try {
      const { port } = vite.httpServer!.address() as AddressInfo;
      const base = `http://127.0.0.1:${port}`;
      const mounted = plugin.api.server();
      expect(mounted?.baseURL).toBe(base);
      const signUp = await fetch(`${base}/api/auth/sign-up/email`, {
        method: 'POST',
        // Opened as localhost: trusted as well.
        headers: { 'content-type': 'application/json', origin: `http://localhost:${port}` },
        body: JSON.stringify({ email: 'vite@example.com', password: PASSWORD, name: 'Vite' }),
      });
      expect(signUp.status).toBe(200);
      const cookie = (signUp.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
      const res = await fetch(`${base}/api/auth/token`, { headers: { cookie } });
      const { token } = (await res.json()) as { token: string };
      const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${base}/api/auth/jwks`)), { issuer: base });
      expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(20);
      expect(mounted?.stats().tokens).toBe(1);
      const other = await fetch(`${base}/not-better-auth.txt`);
      expect(other.headers.get('content-type') ?? '').not.toContain('application/json');
    } finally {
      await vite.close();
    }
  });

  it('uses the baseURL it is given, and rejects bad options when the config loads', () => {
    expect(betterAuthPlugin({ baseURL: 'http://localhost:5173', quiet: true }).api.server()?.baseURL).toBe('http://localhost:5173');
    expect(() => betterAuthPlugin({ tokenLifetimeSeconds: -1 })).toThrow(/tokenLifetimeSeconds/);
  });
});
