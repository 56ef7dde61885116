/**
 * Engine behaviour that needs responses the development origin cannot be asked for: invalid
 * tokens, exact status codes and Retry-After headers, tokens with chosen oiat/iat, and a response
 * held back to land after a sign-out. The engine's clock is fake; tokens are real ES256 JWTs.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../protocol/errors.ts';
import type { EngineChange } from '../../protocol/types.ts';
import { MemoryTokenStore } from './support/MemoryTokenStore.ts';
import { createEngine } from '../../worker/createEngine.ts';
import { parseEngineConfig } from '../../worker/engineConfig.ts';
import { invoke } from '../../protocol/operations.ts';
import type { TokenStore } from '../../engine/TokenStore.ts';
import { engineConfig, req, scripted } from './support/engine.ts';
import { FakeClock, flush, until } from './support/FakeClock.ts';
import { ScriptedOrigin } from './support/ScriptedOrigin.ts';
import { rawToken, signToken } from './support/tokens.ts';

const DEFAULT = 'sess_1|||';

describe('TokenEngine with crafted responses', () => {
  it('a staler token (lower oiat, then lower iat) never replaces a fresher one', async () => {
    const { engine, origin } = await scripted();
    const nowS = () => Math.floor(origin.originNowMs() / 1000);
    const fresh = await signToken({ sid: 'sess_1', iat: nowS(), exp: nowS() + 60, oiat: nowS() });
    origin.once((_c, o) => o.json(200, { object: 'token', jwt: fresh }));
    expect(await engine.getToken(req({ skipCache: true }))).toBe(fresh);

    const lowerOiat = await signToken({ sid: 'sess_1', iat: nowS() + 5, exp: nowS() + 65, oiat: nowS() - 100 });
    origin.once((_c, o) => o.json(200, { object: 'token', jwt: lowerOiat }));
    // The waiter gets the token the cache holds: the fresher one.
    expect(await engine.getToken(req({ skipCache: true }))).toBe(fresh);
    expect(engine.snapshot().tokens[DEFAULT]?.jwt).toBe(fresh);

    const lowerIat = await signToken({ sid: 'sess_1', iat: nowS() - 1, exp: nowS() + 59, oiat: nowS() });
    origin.once((_c, o) => o.json(200, { object: 'token', jwt: lowerIat }));
    await engine.getToken(req({ skipCache: true }));
    expect(engine.snapshot().tokens[DEFAULT]?.jwt).toBe(fresh);

    const noOiat = await signToken({ sid: 'sess_1', iat: nowS() + 10, exp: nowS() + 70, oiat: null });
    origin.once((_c, o) => o.json(200, { object: 'token', jwt: noOiat }));
    await engine.getToken(req({ skipCache: true }));
    expect(engine.snapshot().tokens[DEFAULT]?.jwt).toBe(fresh);

    const newer = await signToken({ sid: 'sess_1', iat: nowS() + 1, exp: nowS() + 61, oiat: nowS() });
    origin.once((_c, o) => o.json(200, { object: 'token', jwt: newer }));
    expect(await engine.getToken(req({ skipCache: true }))).toBe(newer);
    expect(engine.snapshot().tokens[DEFAULT]?.jwt).toBe(newer);
    engine.close();
  });

  it('a response that lands after sign-out is dropped', async () => {
    const store = new MemoryTokenStore();
    const { engine, origin } = await scripted({ store });
    const changes: EngineChange[] = [];
    engine.subscribe((c) => changes.push(c));
    const held = origin.hold();
    const pending = engine.getToken(req({ template: 'api' }));
    await held.started;
    await engine.setActiveSession(null);
    expect(await pending).toBeNull();
    held.release();
    await until(() => origin.count('mint') === 2);
    await flush(20);
    await engine.flush();
    expect(engine.snapshot().status).toBe('signed-out');
    expect(engine.snapshot().tokens).toEqual({});
    expect(changes.filter((c) => c.type === 'token')).toEqual([]);
    // One message for the sign-out: the evictions and the status travel in it.
    expect(changes.map((c) => c.type)).toEqual(['signout']);
    expect(changes[0]).toMatchObject({ status: 'signed-out' });
    expect(store.dump().tokens).toEqual({});
    expect(await engine.getToken(req({ template: 'api' }))).toBeNull();
    engine.close();
  });

  it('a session past its expire_at is looked up again within a poll interval, before its token is due for refresh', async () => {
    const clock = new FakeClock();
    const origin = new ScriptedOrigin(clock);
    origin.offsetMs = -3 * 3_600_000; // this machine's clock runs 3 h ahead of the origin's
    origin.sessionEndsAt = origin.originNowMs() + 32_000;
    const { engine } = await scripted({ clock, origin });
    const changes: EngineChange[] = [];
    engine.subscribe((c) => changes.push(c));
    const clientReads = origin.count('client');
    const mints = origin.count('mint');
    await clock.advance(30_000);
    await flush(20);
    expect(origin.count('client')).toBe(clientReads);
    expect(engine.snapshot().status).toBe('ok');
    // The end is placed on the local clock through the Date header; the next tick after it asks.
    await clock.advance(8_000);
    await until(() => engine.snapshot().status === 'signed-out');
    expect(origin.count('client')).toBe(clientReads + 1);
    // Long before the token's own refresh (at 45 s of its 60 s): no mint was tried for a dead session.
    expect(origin.count('mint')).toBe(mints);
    expect(engine.snapshot().tokens).toEqual({});
    expect(changes.some((c) => c.type === 'signout' && c.sessionId === 'sess_1')).toBe(true);
    engine.close();
  });

  it('a session still listed past its expire_at (an origin that extends sessions) is not asked about again every tick', async () => {
    const clock = new FakeClock();
    const origin = new ScriptedOrigin(clock);
    origin.sessionEndsAt = origin.originNowMs() + 10_000;
    const { engine } = await scripted({ clock, origin });
    origin.sessionEndsAt = null; // extended: listed with an expire_at an hour ahead from now on
    const clientReads = origin.count('client');
    await clock.advance(15_000);
    await flush(20);
    expect(origin.count('client')).toBe(clientReads + 1);
    await clock.advance(20_000);
    await flush(20);
    expect(origin.count('client')).toBe(clientReads + 1);
    expect(engine.snapshot().status).toBe('ok');
    engine.close();
  });

  it('429 with Retry-After waits that long', async () => {
    const { engine, origin, clock } = await scripted();
    origin.once((_c, o) => o.error(429, 'too_many_requests', { 'Retry-After': '7' }));
    const pending = engine.getToken(req({ template: 'api' }));
    await until(() => origin.count('mint') === 2);
    await flush(20);
    expect(engine.snapshot().status).toBe('degraded');
    await clock.advance(6_900);
    expect(origin.count('mint')).toBe(2);
    await clock.advance(100);
    expect(origin.count('mint')).toBe(3);
    expect(origin.mints()[2]!.at - origin.mints()[1]!.at).toBe(7000);
    expect(await pending).toMatch(/^ey/);
    await until(() => engine.snapshot().status === 'ok');
    engine.close();
  });

  it('429 with an HTTP-date Retry-After is measured against the origin Date, not the local clock', async () => {
    const clock = new FakeClock();
    const origin = new ScriptedOrigin(clock);
    origin.offsetMs = -3 * 3_600_000;
    const { engine } = await scripted({ clock, origin });
    origin.once((_c, o) => o.error(429, 'too_many_requests', { 'Retry-After': new Date(o.originNowMs() + 9000).toUTCString() }));
    const pending = engine.getToken(req({ template: 'api' }));
    await until(() => origin.count('mint') === 2);
    await flush(20);
    await clock.advance(8_900);
    expect(origin.count('mint')).toBe(2);
    await clock.advance(100);
    expect(origin.count('mint')).toBe(3);
    expect(await pending).toMatch(/^ey/);
    engine.close();
  });

  it('4xx other than 429 is not retried', async () => {
    const { engine, origin, clock } = await scripted();
    origin.once((_c, o) => o.error(403, 'forbidden'));
    await expect(engine.getToken(req({ template: 'api' }))).rejects.toMatchObject({ code: 'origin_response', status: 403, errors: [{ code: 'forbidden' }] });
    expect(origin.count('mint')).toBe(2);
    expect(engine.snapshot().status).toBe('ok');
    await clock.advance(120_000);
    expect(origin.mints().filter((c) => c.template === 'api')).toHaveLength(1);
    engine.close();
  });

  it('backoff delays of a failing origin follow full jitter (random · min(30 s, 1 s · 2^n))', async () => {
    const randoms = [0.5, 0.25, 0.999, 0.1, 0.75, 0.5, 0.3, 0.9];
    let i = 0;
    const clock = new FakeClock();
    const origin = new ScriptedOrigin(clock);
    origin.mintHandler = (_c, o) => o.error(503, 'service_unavailable');
    const { engine } = await scripted({ clock, origin, waitDefault: false, random: () => randoms[i++ % randoms.length]! });
    await until(() => origin.count('mint') === 1);
    await flush(20);
    for (let n = 0; n < 8; n++) await clock.advance(30_000);
    const times = origin.mints().map((c) => c.at);
    const deltas = times.slice(1).map((t, n) => t - times[n]!);
    const expected = deltas.map((_d, n) => Math.floor(randoms[n % randoms.length]! * Math.min(30_000, 1000 * 2 ** n)));
    expect(deltas.length).toBeGreaterThanOrEqual(6);
    expect(deltas).toEqual(expected);
    expect(engine.snapshot().status).toBe('degraded');
    engine.close();
  });

  describe('each invalid token kind is rejected with token_invalid and the previous token stays', () => {
    const kinds: [string, (origin: ScriptedOrigin) => Promise<Response> | Response][] = [
      ['not a JWT', (o) => o.json(200, { object: 'token', jwt: 'not-a-jwt' })],
      ['no exp', (o) => o.json(200, { object: 'token', jwt: rawToken({ alg: 'ES256' }, { sid: 'sess_1', iat: Math.floor(o.originNowMs() / 1000) }) })],
      ['no iat', (o) => o.json(200, { object: 'token', jwt: rawToken({ alg: 'ES256' }, { sid: 'sess_1', exp: Math.floor(o.originNowMs() / 1000) + 60 }) })],
      [
        'string exp',
        (o) => o.json(200, { object: 'token', jwt: rawToken({ alg: 'ES256' }, { sid: 'sess_1', iat: Math.floor(o.originNowMs() / 1000), exp: 'later' }) }),
      ],
      [
        'exp ≤ iat',
        async (o) => {
          const iat = Math.floor(o.originNowMs() / 1000);
          return o.json(200, { object: 'token', jwt: await signToken({ sid: 'sess_1', iat, exp: iat }) });
        },
      ],
      [
        'expired by the origin clock',
        async (o) => {
          const now = Math.floor(o.originNowMs() / 1000);
          return o.json(200, { object: 'token', jwt: await signToken({ sid: 'sess_1', iat: now - 120, exp: now - 60 }) });
        },
      ],
      ['wrong sid', async (o) => o.json(200, { object: 'token', jwt: await o.token({ sessionId: 'sess_other', body: new URLSearchParams() }) })],
      [
        'alg none',
        (o) =>
          o.json(200, {
            object: 'token',
            jwt: rawToken({ alg: 'none' }, { sid: 'sess_1', iat: Math.floor(o.originNowMs() / 1000), exp: Math.floor(o.originNowMs() / 1000) + 60 }),
          }),
      ],
      [
        'alg NONE',
        (o) =>
          o.json(200, {
            object: 'token',
            jwt: rawToken({ alg: 'NONE' }, { sid: 'sess_1', iat: Math.floor(o.originNowMs() / 1000), exp: Math.floor(o.originNowMs() / 1000) + 60 }),
          }),
      ],
      ['object other than token', async (o) => o.json(200, { object: 'client', jwt: await o.token({ sessionId: 'sess_1', body: new URLSearchParams() }) })],
      ['a body that is not JSON', () => new Response('<html>ok</html>', { status: 200 })],
      ['a body over 1 MB', (o) => o.json(200, { object: 'token', jwt: 'x'.repeat(1024 * 1024 + 10) })],
    ];
    for (const [name, answer] of kinds) {
      it(name, async () => {
        const { engine, origin } = await scripted();
        const previous = engine.snapshot().tokens[DEFAULT]!.jwt;
        origin.once((_c, o) => answer(o));
        await expect(engine.getToken(req({ skipCache: true }))).rejects.toMatchObject({ code: 'token_invalid', name: 'TokenInvalidError' });
        expect(engine.snapshot().tokens[DEFAULT]?.jwt).toBe(previous);
        expect(await engine.getToken(req())).toBe(previous);
        expect(engine.snapshot().status).toBe('ok');
        engine.close();
      });
    }

    it('a bad signature with verify on', async () => {
      const { engine, origin } = await scripted({ config: { verify: { jwksUrl: 'https://origin.test/.well-known/jwks.json' } } });
      const previous = engine.snapshot().tokens[DEFAULT]!.jwt;
      expect(origin.count('jwks')).toBe(1); // the default token was verified against the JWKS
      origin.once(async (_c, o) => {
        const iat = Math.floor(o.originNowMs() / 1000);
        return o.json(200, { object: 'token', jwt: await signToken({ sid: 'sess_1', iat, exp: iat + 60, untrusted: true }) });
      });
      await expect(engine.getToken(req({ skipCache: true }))).rejects.toMatchObject({ code: 'token_invalid' });
      expect(engine.snapshot().tokens[DEFAULT]?.jwt).toBe(previous);
      // A good one still verifies, with the key set created once and reused.
      expect(await engine.getToken(req({ skipCache: true }))).not.toBe(previous);
      expect(origin.count('jwks')).toBe(1);
      engine.close();
    });
  });

  it('every invalid option is rejected with invalid_argument before any request', async () => {
    const { engine, origin } = await scripted();
    const before = origin.calls.length;
    const bad: unknown[] = [
      undefined,
      null,
      'template',
      {},
      req({ template: '' }),
      req({ template: 'a/b' }),
      req({ template: '../x' }),
      req({ template: 'x'.repeat(65) }),
      req({ organizationId: 'org 1' }),
      req({ organizationId: '' }),
      req({ expiresInSeconds: 0 }),
      req({ expiresInSeconds: -5 }),
      req({ expiresInSeconds: 1.5 }),
      req({ expiresInSeconds: 315_360_001 }),
      req({ expiresInSeconds: Number.NaN }),
      { ...req(), expiresInSeconds: '60' },
      req({ leewayInSeconds: -1 }),
      req({ leewayInSeconds: Number.NaN }),
      req({ leewayInSeconds: Number.POSITIVE_INFINITY }),
      { ...req(), skipCache: 'yes' },
      { ...req(), template: 5 },
    ];
    // Checked once, where a tab's call reaches the host (the operation table): the engine takes typed input.
    for (const request of bad) {
      await expect(invoke({ engine, mode: 'shared', origins: [] }, 'getToken', request)).rejects.toMatchObject({
        code: 'invalid_argument',
        name: 'InvalidArgumentError',
      });
      await expect(invoke({ engine, mode: 'shared', origins: [] }, 'refresh', request)).rejects.toThrow(InvalidArgumentError);
      await expect(invoke({ engine, mode: 'shared', origins: [] }, 'noteReads', [{ key: DEFAULT, request }])).rejects.toThrow(InvalidArgumentError);
    }
    await expect(invoke({ engine, mode: 'shared', origins: [] }, 'noteReads', 'x')).rejects.toThrow(InvalidArgumentError);
    for (const id of ['', 'a b', 'x'.repeat(129), 'sess/1', 5, undefined]) {
      await expect(invoke({ engine, mode: 'shared', origins: [] }, 'setActiveSession', id)).rejects.toMatchObject({ code: 'invalid_argument' });
    }
    expect(origin.calls.length).toBe(before);
    expect(engine.snapshot().sessionId).toBe('sess_1');

    const clock = new FakeClock();
    const deps = { clock, fetch: origin.fetch, store: null };
    for (const config of [
      engineConfig({ pollIntervalMs: 10 }),
      engineConfig({ pollIntervalMs: 1500.5 }),
      engineConfig({ frontendApi: 'not a url' }),
      engineConfig({ frontendApi: 'ftp://origin.test' }),
      engineConfig({ endpoints: { ...engineConfig().endpoints, token: '//evil.example/tokens/{sid}' } }),
      engineConfig({ namespace: 'a b' }),
      engineConfig({ credentials: 'sometimes' as RequestCredentials }),
    ]) {
      // The host checks a hello's config before it creates an engine for it.
      expect(() => createEngine(parseEngineConfig(config), deps)).toThrow(InvalidArgumentError);
    }
    expect(origin.calls.length).toBe(before);
    engine.close();
  });

  it('the poller runs on one timer only', async () => {
    const { engine, clock, origin } = await scripted({ tabs: 0 });
    expect(clock.pending).toBe(0);
    engine.setTabCount(1);
    engine.setTabCount(3);
    engine.setTabCount(2);
    engine.noteReads([{ key: DEFAULT, request: req() }]);
    engine.visible();
    expect(clock.pending).toBe(1);
    expect(clock.pendingDelays()).toEqual([5000]);
    for (let n = 0; n < 30; n++) {
      await clock.advance(5000);
      // A request in flight holds its own timeout timer; once it has landed only the poller's is left.
      await until(() => clock.pending === 1);
    }
    expect(origin.count('mint')).toBeGreaterThan(1); // it did poll and refresh meanwhile
    engine.setTabCount(0);
    expect(clock.pending).toBe(0);
    engine.setTabCount(1);
    engine.close();
    expect(clock.pending).toBe(0);
  });

  it('snapshot identity is stable between changes and the version rises', async () => {
    const { engine, origin } = await scripted();
    const changes: EngineChange[] = [];
    engine.subscribe((c) => changes.push(c));
    const first = engine.snapshot();
    expect(engine.snapshot()).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.tokens)).toBe(true);
    expect(Object.isFrozen(first.tokens[DEFAULT])).toBe(true);
    await engine.getToken(req()); // a fresh hit changes nothing
    expect(engine.snapshot()).toBe(first);
    await engine.getToken(req({ template: 'api' }));
    const second = engine.snapshot();
    expect(second).not.toBe(first);
    expect(second.version).toBeGreaterThan(first.version);
    expect(changes.map((c) => c.version)).toEqual(changes.map((_c, n) => first.version + n + 1));
    expect(second.version).toBe(changes.at(-1)?.version);
    const token = changes.find((c) => c.type === 'token');
    expect(token).toMatchObject({ key: 'sess_1|api||' });
    if (token?.type === 'token') expect(token.staleAt).toBe(token.expiresAt - 15_000);
    expect(origin.count('mint')).toBe(2);
    engine.close();
  });

  it('expiresAt is measured from the Date header (the later of Date and iat), or from iat without one', async () => {
    const { engine, origin, clock } = await scripted();
    // A token the origin issued 30 s before it answered (a cache in front of it): 30 s are already gone.
    origin.once(async (call, o) => {
      const now = Math.floor(o.originNowMs() / 1000);
      return o.json(200, { object: 'token', jwt: await o.token(call, { iat: now - 30, exp: now + 30 }) });
    });
    await engine.getToken(req({ template: 'a' }));
    expect(engine.snapshot().tokens['sess_1|a||']!.expiresAt - clock.now()).toBe(30_000);
    // A Date a second behind iat (its one-second resolution): iat wins, the full lifetime is left.
    origin.once(async (call, o) => {
      const now = Math.floor(o.originNowMs() / 1000);
      const jwt = await o.token(call, { iat: now + 1, exp: now + 61 });
      return new Response(JSON.stringify({ object: 'token', jwt }), { headers: { Date: new Date(now * 1000).toUTCString() } });
    });
    await engine.getToken(req({ template: 'b' }));
    expect(engine.snapshot().tokens['sess_1|b||']!.expiresAt - clock.now()).toBe(60_000);
    // No Date header at all: measured from iat.
    origin.once(async (call, o) => new Response(JSON.stringify({ object: 'token', jwt: await o.token(call, { lifetimeS: 45 }) })));
    await engine.getToken(req({ template: 'c' }));
    expect(engine.snapshot().tokens['sess_1|c||']!.expiresAt - clock.now()).toBe(45_000);
    engine.close();
  });

  it('a mint that does not answer within 10 s counts as an outage', async () => {
    const { engine, origin, clock } = await scripted();
    origin.hold();
    const outcome = engine.getToken(req({ template: 'api' })).catch((e: unknown) => e);
    await until(() => origin.count('mint') === 2);
    await clock.advance(10_000);
    expect(await outcome).toMatchObject({ code: 'origin_unavailable' });
    expect(engine.snapshot().status).toBe('degraded');
    engine.close();
  });

  it('GET {client} answering { response: null } resolves signed out, and getToken resolves null without a mint', async () => {
    const clock = new FakeClock();
    const origin = new ScriptedOrigin(clock);
    origin.sessions = null;
    const { engine } = await scripted({ clock, origin, waitDefault: false });
    expect(engine.snapshot()).toMatchObject({ status: 'signed-out', sessionId: null });
    expect(await engine.getToken(req())).toBeNull();
    expect(origin.count('mint')).toBe(0);
    engine.close();
  });

  it('an unreadable GET {client} is treated as an outage, not as a sign-out', async () => {
    const clock = new FakeClock();
    const origin = new ScriptedOrigin(clock);
    const real = origin.fetch;
    let broken = true;
    origin.fetch = async (input, init) => (broken && String(input).endsWith('/v1/client') ? new Response('<html>maintenance</html>') : real(input, init));
    const { engine } = await scripted({ clock, origin, waitDefault: false });
    expect(engine.snapshot()).toMatchObject({ status: 'degraded', sessionId: null });
    broken = false;
    await clock.advance(1000);
    await until(() => engine.snapshot().tokens[DEFAULT]);
    expect(engine.snapshot()).toMatchObject({ status: 'ok', sessionId: 'sess_1' });
    engine.close();
  });

  it('without IndexedDB the engine continues in memory', async () => {
    const clock = new FakeClock();
    const origin = new ScriptedOrigin(clock);
    expect(typeof (globalThis as { indexedDB?: unknown }).indexedDB).toBe('undefined');
    const engine = createEngine(engineConfig({ persist: true }), { clock, fetch: origin.fetch });
    const errors: unknown[] = [];
    engine.onError((e) => errors.push(e));
    await engine.ready;
    expect(engine.snapshot()).toMatchObject({ storage: 'memory', status: 'ok', sessionId: 'sess_1' });
    expect(await engine.getToken(req())).toMatch(/^ey/);
    expect(errors).toHaveLength(1);
    engine.close();
    const off = createEngine(engineConfig({ persist: false }), { clock, fetch: origin.fetch });
    expect(off.snapshot().storage).toBe('memory');
    off.close();
  });

  it('a store that never answers does not hang ready', async () => {
    const clock = new FakeClock();
    const origin = new ScriptedOrigin(clock);
    const never = () => new Promise<never>(() => undefined);
    const store: TokenStore = { read: never, write: never };
    const engine = createEngine(engineConfig({ persist: true }), { clock, fetch: origin.fetch, store });
    let ready = false;
    void engine.ready.then(() => (ready = true));
    await clock.advance(2_900);
    expect(ready).toBe(false);
    await clock.advance(100);
    await until(() => ready);
    expect(engine.snapshot()).toMatchObject({ storage: 'memory', sessionId: 'sess_1' });
    engine.close();
  });

  it('visible() refreshes keys within their leeway at once, and re-reads the client when signed out', async () => {
    const { engine, origin, clock } = await scripted({ tabs: 0 });
    await engine.getToken(req({ template: 'api', leewayInSeconds: 30 }));
    await clock.advance(25_000); // both have 35 s left: outside 15 s (default) and outside 30 s (api)
    engine.visible();
    await flush(10);
    expect(origin.count('mint')).toBe(2);
    await clock.advance(6_000); // api: 29 s left, within 30 s; default: 29 s left, outside 15 s
    engine.visible();
    await until(() => origin.count('mint') === 3);
    expect(origin.mints()[2]?.template).toBe('api');
    await engine.setActiveSession(null);
    const reads = origin.count('client');
    engine.visible();
    await until(() => origin.count('client') === reads + 1);
    engine.close();
  });

  it('switching the active session moves waiting callers to the new session and drops the old tokens', async () => {
    const clock = new FakeClock();
    const origin = new ScriptedOrigin(clock);
    origin.sessions = ['sess_1', 'sess_2'];
    const { engine } = await scripted({ clock, origin });
    const changes: EngineChange[] = [];
    engine.subscribe((c) => changes.push(c));
    const held = origin.hold();
    const pending = engine.getToken(req({ template: 'api' }));
    await held.started;
    await engine.setActiveSession('sess_2');
    const jwt = await pending;
    expect(JSON.parse(Buffer.from(jwt!.split('.')[1]!, 'base64url').toString()).sid).toBe('sess_2');
    held.release();
    await until(() => engine.snapshot().tokens['sess_2|||']);
    await flush(20);
    expect(Object.keys(engine.snapshot().tokens).sort()).toEqual(['sess_2|||', 'sess_2|api||'].sort());
    expect(changes.filter((c) => c.type === 'signout' || c.type === 'evict')).toEqual([]);
    // The switch is one message: the new session with the old session's tokens gone.
    expect(changes[0]).toMatchObject({ type: 'status', status: 'ok', sessionId: 'sess_2', tokens: {} });
    engine.close();
  });
});
