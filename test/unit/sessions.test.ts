/**
 * The engine's side of the sessions an app changes (SPEC 2), and what its outage messages say.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, OriginUnavailableError } from '../../protocol/errors.ts';
import { req, scripted } from './support/engine.ts';
import { FakeClock, flush } from './support/FakeClock.ts';
import { ScriptedOrigin } from './support/ScriptedOrigin.ts';

/** A scripted origin whose GET {client} can be made to fail like an unreachable server. */
function originWithClientOutage(clock: FakeClock) {
  const origin = new ScriptedOrigin(clock);
  const real = origin.fetch;
  const control = { down: false };
  origin.fetch = async (input, init) => {
    if (control.down) throw new TypeError('Failed to fetch');
    return real(input, init);
  };
  return { origin, control };
}

describe('sessions the app changes (engine)', () => {
  it('sync() adopts the last active session, even one dismissed here, and a session that ended signs out', async () => {
    const { engine, origin } = await scripted();
    await engine.setActiveSession(null);
    expect(engine.snapshot()).toMatchObject({ status: 'signed-out', sessionId: null });
    await engine.sync();
    expect(engine.snapshot()).toMatchObject({ status: 'ok', sessionId: 'sess_1', userId: 'user_1' });
    origin.sessions = ['sess_1', 'sess_2'];
    origin.lastActive = 'sess_2';
    await engine.sync();
    expect(engine.snapshot().sessionId).toBe('sess_2');
    origin.sessions = [];
    origin.lastActive = null;
    const version = await engine.sync();
    expect(engine.snapshot()).toMatchObject({ status: 'signed-out', sessionId: null, version });
    engine.close();
  });

  it('sync() and setActiveSession() during an outage reject origin_unavailable and change nothing: not the session, the status or the backoff', async () => {
    const clock = new FakeClock();
    const { origin, control } = originWithClientOutage(clock);
    const { engine } = await scripted({ clock, origin });
    const before = engine.snapshot();
    const pending = clock.pending;
    control.down = true;
    await expect(engine.sync()).rejects.toBeInstanceOf(OriginUnavailableError);
    await expect(engine.setActiveSession('sess_2')).rejects.toMatchObject({ code: 'origin_unavailable', message: expect.stringContaining('Failed to fetch') });
    await flush();
    expect(engine.snapshot()).toBe(before);
    expect(clock.pending).toBe(pending); // no backoff timer armed
    control.down = false;
    expect(await engine.getToken(req({ skipCache: true }))).toMatch(/^ey/);
    engine.close();
  });

  it('setActiveSession() with an id the origin does not list rejects InvalidArgumentError and changes nothing', async () => {
    const { engine, origin } = await scripted();
    const before = engine.snapshot();
    const error = await engine.setActiveSession('sess_doesnotexist').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(engine.snapshot()).toBe(before);
    origin.sessions = ['sess_1', 'sess_2'];
    await engine.setActiveSession('sess_2');
    expect(engine.snapshot()).toMatchObject({ sessionId: 'sess_2', userId: 'user_1' });
    engine.close();
  });

  it('in an outage a skipCache read that runs out says it asked for a new token, not that nothing is cached', async () => {
    const clock = new FakeClock();
    const { engine, origin } = await scripted({ clock });
    origin.mintHandler = (_call, o) => o.error(503, 'down');
    expect(engine.snapshot().tokens['sess_1|||']).toBeDefined();
    const outcome = engine.getToken(req({ skipCache: true })).catch((e: unknown) => e);
    await clock.advance(11_000);
    const error = (await outcome) as Error;
    expect(error).toBeInstanceOf(OriginUnavailableError);
    expect(error.message).toMatch(/skipCache asks for a new token/);
    expect(error.message).not.toMatch(/none is cached|expired/);
    expect(error.message).toMatch(/503/);
    // The cached token is still served to a plain read.
    expect(await engine.getToken(req())).toMatch(/^ey/);
    engine.close();
  });
});
