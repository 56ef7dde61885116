/**
 * The Supabase Auth refresh protocol the benchmarks mount on the development origin, spoken to by
 * the real, unmodified `@supabase/auth-js` client and by hand. The shipped origin never speaks it.
 */
import { GoTrueClient } from '@supabase/auth-js';
import { afterAll, beforeAll, beforeEach, describe, expect } from 'vitest';
import { supabaseRoutes } from '../../bench/origin/supabaseRoutes.ts';
import { control, it, startOrigin, stats, verifyWithOrigin, type RunningOrigin } from './harness.ts';

let o: RunningOrigin;

beforeAll(async () => {
  o = await startOrigin({ faults: true }, supabaseRoutes);
});
afterAll(() => o.close());
beforeEach(async () => {
  await control(o.base, '/__origin/reset');
});

/** A client as an app makes one, without a browser: memory storage, no background ticker. */
function client(): GoTrueClient {
  return new GoTrueClient({ url: `${o.base}/auth/v1`, persistSession: false, autoRefreshToken: false });
}

function token(body: object, grant: string): Promise<Response> {
  return fetch(`${o.base}/auth/v1/token?grant_type=${grant}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('the Supabase Auth protocol', () => {
  it('is not served by the shipped origin, even with faults', async ({ origins }) => {
    const plain = await origins.start({ faults: true });
    const res = await fetch(`${plain.base}/auth/v1/token?grant_type=password`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(await (await fetch(`${plain.base}/auth/v1/user`)).json()).toMatchObject({ errors: [{ code: 'not_found' }] });
  });

  it('signs the real client in and refreshes its session, counted apart from tabtoken mints', async () => {
    // Above the client's 90 s expiry margin, so reading the session does not refresh it by itself.
    await control(o.base, '/__origin/config', { tokenLifetimeSeconds: 200 });
    const auth = client();
    const signIn = await auth.signInWithPassword({ email: 'peer@example.com', password: 'pw' });
    expect(signIn.error).toBeNull();
    const first = signIn.data.session;
    expect(first?.token_type).toBe('bearer');
    expect(first?.user.email).toBe('peer@example.com');

    const refreshed = await auth.refreshSession();
    expect(refreshed.error).toBeNull();
    const second = refreshed.data.session;
    expect(second?.access_token).not.toBe(first?.access_token);
    expect(second?.refresh_token).not.toBe(first?.refresh_token);

    const { payload } = await verifyWithOrigin(o.base, second?.access_token ?? '');
    expect(payload).toMatchObject({ aud: 'authenticated', role: 'authenticated', sub: second?.user.id, session_id: expect.any(String) });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(200);
    expect(second?.expires_at).toBe(payload.exp);

    const counted = await stats(o.base);
    expect(counted.mints).toBe(0);
    expect(counted.requests).toMatchObject({ supabase_token: 2, supabase_refresh: 1 });
  });

  it('gives tokens the lifetime set with POST /__origin/config', async () => {
    expect(await (await token({ email: 'default@example.com', password: 'pw' }, 'password')).json()).toMatchObject({ expires_in: 60 });
    await control(o.base, '/__origin/config', { tokenLifetimeSeconds: 20 });
    expect(await (await token({ email: 'short@example.com', password: 'pw' }, 'password')).json()).toMatchObject({ expires_in: 20 });
  });

  it("keeps an older refresh token of a live session usable, and refuses an unknown one in the client's error shape", async () => {
    const signIn = (await (await token({ email: 'rotate@example.com', password: 'pw' }, 'password')).json()) as { refresh_token: string };
    expect((await token({ refresh_token: signIn.refresh_token }, 'refresh_token')).status).toBe(200);
    expect((await token({ refresh_token: signIn.refresh_token }, 'refresh_token')).status).toBe(200);

    const unknown = await token({ refresh_token: 'nope' }, 'refresh_token');
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('x-supabase-api-version')).toBe('2024-01-01');
    expect(await unknown.json()).toMatchObject({ code: 'refresh_token_not_found' });
    expect((await stats(o.base)).requests).toMatchObject({ supabase_token: 4, supabase_refresh: 2 });
  });

  it('answers the user of an access token, and after sign-out refuses to refresh', async () => {
    const auth = client();
    const { data } = await auth.signInWithPassword({ email: 'out@example.com', password: 'pw' });
    const refreshToken = data.session?.refresh_token ?? '';
    const user = await auth.getUser(data.session?.access_token);
    expect(user.data.user?.email).toBe('out@example.com');

    expect((await auth.signOut()).error).toBeNull();
    const after = await token({ refresh_token: refreshToken }, 'refresh_token');
    expect(after.status).toBe(403);
    expect(await after.json()).toMatchObject({ code: 'session_not_found' });
  });

  it('is down with the origin in outage mode down', async () => {
    await control(o.base, '/__origin/outage', { mode: 'down' });
    const res = await token({ email: 'down@example.com', password: 'pw' }, 'password');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: 'service_unavailable' });
  });
});
