import { describe, expect, it } from 'vitest';
import { OriginResponseError, OriginUnavailableError } from '../../protocol/errors.ts';
import { ClerkOrigin } from '../../origins/clerk/ClerkOrigin.ts';
import { engineConfig } from './support/engine.ts';
import { FakeClock, until } from './support/FakeClock.ts';
import { signToken } from './support/tokens.ts';

interface Seen {
  url: string;
  init: RequestInit;
}

function minterWith(answer: (seen: Seen) => Response | Promise<Response>, config = engineConfig()) {
  const clock = new FakeClock();
  const seen: Seen[] = [];
  const fetchStub: typeof fetch = async (input, init) => {
    const s = { url: String(input), init: init ?? {} };
    seen.push(s);
    return answer(s);
  };
  const minter = new ClerkOrigin(config, { clock, fetch: fetchStub });
  return { minter, seen, clock };
}

describe('ClerkOrigin', () => {
  it('mint requests follow the endpoints, credentials and form body of the config', async () => {
    const config = engineConfig({
      frontendApi: 'https://auth.example.com/clerk',
      credentials: 'same-origin',
      endpoints: { client: '/c', token: '/s/{sid}/t', templateToken: '/s/{sid}/t/{template}/x', endSession: '/s/{sid}/bye' },
    });
    const { minter, seen } = minterWith(async () => {
      const iat = Math.floor(Date.now() / 1000);
      return Response.json({ object: 'token', jwt: await signToken({ sid: 'sess_1', iat, exp: iat + 60 }) }, { headers: { Date: new Date().toUTCString() } });
    }, config);
    await minter.mint('sess_1', { template: 'api', organizationId: 'org_9', expiresInSeconds: 90 }, 'last.jwt.value');
    await minter.mint('sess_1', { template: null, organizationId: null, expiresInSeconds: 45 }, null);
    await minter.mint('sess_1', { template: null, organizationId: null, expiresInSeconds: null }, null);
    const [a, b, c] = seen;
    expect(a!.url).toBe('https://auth.example.com/clerk/s/sess_1/t/api/x?expired_token=last.jwt.value');
    expect(a!.init).toMatchObject({ method: 'POST', credentials: 'same-origin', body: 'organization_id=org_9&expires_in_seconds=90' });
    expect(new Headers(a!.init.headers).get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(b!.url).toBe('https://auth.example.com/clerk/s/sess_1/t');
    expect(b!.init.body).toBe('expires_in_seconds=45');
    expect(c!.init.body).toBe('');
    expect(minter.counters()).toMatchObject({ mint: 3, mints: 3, failed: 0 });
  });

  it('an error body that is HTML or not the errors shape gives errors: [], and Retry-After is kept', async () => {
    const { minter } = minterWith(() => new Response('<html>502 Bad Gateway</html>', { status: 502, headers: { 'Retry-After': '4' } }));
    const error = await minter.mint('sess_1', { template: null, organizationId: null, expiresInSeconds: null }, null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OriginResponseError);
    expect(error).toMatchObject({ status: 502, errors: [], retryAfter: 4 });
    const other = minterWith(() => Response.json({ errors: [{ code: 'x', message: 5 }, 'junk', { nocode: 1 }] }, { status: 400 }));
    await expect(other.minter.mint('sess_1', { template: null, organizationId: null, expiresInSeconds: null }, null)).rejects.toMatchObject({
      errors: [{ code: 'x' }],
    });
  });

  it('a request that does not answer within 10 s is aborted as origin_unavailable', async () => {
    const { minter, clock, seen } = minterWith(
      (s) => new Promise<Response>((_resolve, reject) => s.init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))),
    );
    const outcome = minter.mint('sess_1', { template: null, organizationId: null, expiresInSeconds: null }, null).catch((e: unknown) => e);
    await until(() => seen.length === 1);
    await clock.advance(9_999);
    expect(clock.pending).toBe(1);
    await clock.advance(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(OriginUnavailableError);
    expect((error as Error).message).toContain('10 s');
    expect(clock.pending).toBe(0);
    expect(minter.counters().failed).toBe(1);
  });

  it('GET {client} is validated defensively', () => {
    expect(ClerkOrigin.parseClient({ response: null })).toEqual({ sessions: new Set(), lastActiveSessionId: null, endsAt: new Map(), users: new Map() });
    const state = ClerkOrigin.parseClient(
      {
        response: {
          sessions: [
            { id: 'sess_a', status: 'active', user_id: 'u', expire_at: 1_000_000 },
            { id: 'sess_c', status: 'active', user_id: 'u', expire_at: 'soon' },
            { id: 'sess_b', status: 'ended' },
            { id: 'bad id', status: 'active' },
            null,
          ],
          last_active_session_id: 'sess_a',
        },
      },
      5000,
    );
    expect([...state.sessions]).toEqual(['sess_a', 'sess_c']);
    // expire_at placed on this machine's clock, which runs 5 s ahead; a malformed one is left out.
    expect([...state.endsAt]).toEqual([['sess_a', 1_005_000]]);
    expect(state.lastActiveSessionId).toBe('sess_a');
    expect([...state.users]).toEqual([
      ['sess_a', 'u'],
      ['sess_c', 'u'],
    ]);
    expect(
      ClerkOrigin.parseClient({ response: { sessions: [{ id: 'sess_a', status: 'active' }], last_active_session_id: 'sess_b' } }).lastActiveSessionId,
    ).toBeNull();
    expect(ClerkOrigin.parseClient({ response: { sessions: [], last_active_session_id: 'sess_a' } }).lastActiveSessionId).toBeNull();
    for (const junk of [null, 'x', {}, { response: 5 }, { response: { sessions: 'no' } }]) {
      expect(() => ClerkOrigin.parseClient(junk)).toThrow(OriginResponseError);
    }
  });
});
