/**
 * The app's own token endpoint (SPEC 13) through the engine, on fake time, over real HTTP to the
 * development origin's app session routes: a refresh cookie that rotates at every call, with reuse
 * detection. A small cookie jar plays the browser (the cookie is scoped to /app/session).
 */
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OriginUnavailableError } from '../../protocol/errors.ts';
import type { EngineChange } from '../../protocol/types.ts';
import { createEngine } from '../../worker/createEngine.ts';
import { serveOrigin, type RunningOrigin } from '../support/servers.ts';
import { engineConfig, req } from './support/engine.ts';
import { FakeClock, flush, until } from './support/FakeClock.ts';
import { FakeLocks } from './support/FakeLocks.ts';

/** A browser's cookies for one origin: by name, each with its path. */
class Jar {
  readonly #cookies = new Map<string, { value: string; path: string }>();
  /** Requests to the origin's token route, as the origin saw them. */
  calls = 0;
  held: (() => Promise<void>) | null = null;

  fetch: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(init?.headers);
    const cookie = [...this.#cookies]
      .filter(([, c]) => url.pathname.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
    if (cookie) headers.set('Cookie', cookie);
    if (url.pathname === '/app/session/token') this.calls++;
    const res = await fetch(url, { ...init, headers, signal: undefined });
    // A held answer reaches the page late; given up meanwhile, it never does (nor does its cookie).
    if (this.held && url.pathname === '/app/session/token') await this.held();
    if (init?.signal?.aborted) throw new DOMException('The operation was aborted', 'AbortError');
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';').map((p) => p.trim());
      const [name = '', value = ''] = pair.split('=');
      const path = attrs.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      if (attrs.some((a) => a.toLowerCase() === 'max-age=0')) this.#cookies.delete(name);
      else this.#cookies.set(name, { value, path });
    }
    return res;
  };

  async login(base: string, userId: string): Promise<void> {
    const res = await this.fetch(`${base}/app/session/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user_id: userId }).toString(),
    });
    if (!res.ok) throw new Error(`login answered ${res.status}`);
  }
}

let served: RunningOrigin;
beforeAll(async () => {
  served = await serveOrigin({ faults: true });
});
afterAll(() => served.close());
afterEach(async () => {
  await fetch(`${served.base}/__origin/reset`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
});

async function stats(): Promise<{ app: { tokens: number; reuses: number; families: number; revoked: number } }> {
  return (await (await fetch(`${served.base}/__origin/stats`)).json()) as { app: { tokens: number; reuses: number; families: number; revoked: number } };
}

async function start(jar: Jar, clock = new FakeClock()) {
  const config = engineConfig({
    endpoint: {
      tokenUrl: `${served.base}/app/session/token`,
      method: 'POST',
      signOutUrl: `${served.base}/app/session/logout`,
      headers: { 'X-Requested-With': 'tabtoken' },
      credentials: 'include',
    },
  });
  const engine = createEngine(config, { clock, fetch: jar.fetch, store: null, locks: new FakeLocks().manager, random: () => 0.5 });
  const errors: unknown[] = [];
  engine.onError((e) => errors.push(e));
  const changes: EngineChange[] = [];
  engine.subscribe((c) => changes.push(c));
  await engine.ready;
  engine.setTabCount(1);
  return { engine, clock, errors, changes };
}

describe('the app’s own token endpoint', () => {
  it('signed out at start after one call; after the app’s own sign-in, sync() signs in with the JWT’s user and claims', async () => {
    const jar = new Jar();
    const { engine } = await start(jar);
    expect(engine.snapshot()).toMatchObject({ status: 'signed-out', sessionId: null });
    expect(jar.calls).toBe(1);
    expect(await engine.getToken(req())).toBeNull();
    expect(jar.calls).toBe(1); // never on a getToken while signed out
    await jar.login(served.base, 'alice');
    await engine.sync();
    const snap = engine.snapshot();
    expect(snap).toMatchObject({ status: 'ok', userId: 'alice', claims: { sub: 'alice' } });
    expect(snap.sessionId).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Object.keys(snap.tokens)).toEqual([`${snap.sessionId}|||`]);
    expect(jar.calls).toBe(2);
    engine.close();
  });

  it('every refresh rotates the cookie, the rotated one is the one presented next, and the server sees no reuse', async () => {
    const jar = new Jar();
    await jar.login(served.base, 'bob');
    const { engine, clock } = await start(jar);
    let current = await engine.getToken(req());
    expect(decodeJwt(current!).sub).toBe('bob');
    const key = `${engine.snapshot().sessionId}|||`;
    for (let i = 0; i < 4; i++) {
      await clock.advance(50_000); // inside the leeway: the poller refreshes
      const previous = current;
      current = await until(() => (engine.snapshot().tokens[key]?.jwt !== previous ? engine.snapshot().tokens[key]?.jwt : undefined));
      await flush(10);
    }
    expect(jar.calls).toBe(5);
    expect((await stats()).app).toMatchObject({ tokens: 5, reuses: 0, revoked: 0 });
    engine.close();
  });

  it('a family revoked elsewhere signs out at the next refresh; a sign-in as someone else starts a new session in one transition', async () => {
    const jar = new Jar();
    await jar.login(served.base, 'carol');
    const { engine, changes } = await start(jar);
    const before = engine.snapshot().sessionId;
    await jar.login(served.base, 'dave'); // the app signed in as someone else: a new cookie of another family
    await engine.sync();
    const after = engine.snapshot();
    expect(after).toMatchObject({ status: 'ok', userId: 'dave' });
    expect(after.sessionId).not.toBe(before);
    expect(Object.keys(after.tokens)).toEqual([`${after.sessionId}|||`]);
    const switched = changes.at(-1);
    expect(switched).toMatchObject({ type: 'status', sessionId: after.sessionId, userId: 'dave' });
    // Logged out behind the engine's back: the next refresh answers 401, every tab signs out.
    await fetch(`${served.base}/app/session/logout`, { method: 'POST', headers: { Cookie: '' } });
    const logout = await jar.fetch(`${served.base}/app/session/logout`, { method: 'POST' });
    expect(logout.ok).toBe(true);
    expect(await engine.getToken(req({ skipCache: true }))).toBeNull();
    expect(engine.snapshot()).toMatchObject({ status: 'signed-out', sessionId: null, tokens: {} });
    engine.close();
  });

  it('an outage keeps the token until its real expiry, degraded, then ok; a refused sync changes nothing', async () => {
    const jar = new Jar();
    await jar.login(served.base, 'erin');
    const { engine, clock } = await start(jar);
    const jwt = await engine.getToken(req());
    await fetch(`${served.base}/__origin/outage`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ mode: 'down' }) });
    await clock.advance(50_000);
    await until(() => engine.snapshot().status === 'degraded');
    expect(await engine.getToken(req())).toBe(jwt); // past the hard cutoff, before the real expiry
    await expect(engine.sync()).rejects.toBeInstanceOf(OriginUnavailableError);
    expect(engine.snapshot()).toMatchObject({ status: 'degraded', userId: 'erin' });
    await fetch(`${served.base}/__origin/outage`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ mode: 'off' }) });
    await clock.advance(31_000);
    await until(() => engine.snapshot().status === 'ok');
    expect((await stats()).app.reuses).toBe(0);
    engine.close();
  });

  it('an answer held past the caller timeout is used (degraded meanwhile), and the cookie it rotated is the one presented next', async () => {
    const jar = new Jar();
    await jar.login(served.base, 'frank');
    const { engine, clock } = await start(jar);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    jar.held = () => gate;
    const pending = engine.getToken(req({ skipCache: true })).then(
      () => null,
      (e: unknown) => e,
    );
    await until(() => jar.calls === 2);
    await clock.advance(10_500);
    expect(engine.snapshot().status).toBe('degraded');
    expect(await pending).toBeInstanceOf(OriginUnavailableError); // the caller stopped waiting at 10 s
    jar.held = null;
    release();
    await until(() => engine.snapshot().status === 'ok');
    const late = engine.snapshot().tokens[`${engine.snapshot().sessionId}|||`]!.jwt;
    expect(await engine.getToken(req({ skipCache: true }))).not.toBe(late);
    expect((await stats()).app).toMatchObject({ reuses: 0, revoked: 0 });
    engine.close();
  });
});
