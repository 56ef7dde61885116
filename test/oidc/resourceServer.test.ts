/**
 * The DPoP-only resource route: Bearer refused, DPoP with a valid proof accepted, every part of the
 * proof checked, nonces demanded on request, and CORS for the app's origins only.
 */
import { describe, expect, test } from 'vitest';
import { createDpopKey, type DpopKey, type RunningOidcProvider } from '../../dev/oidc/index.ts';
import { APP, provider, signIn } from './support.ts';

async function boundSignIn(): Promise<{ op: RunningOidcProvider; key: DpopKey; token: string; url: string }> {
  const op = await provider();
  const key = await createDpopKey();
  const flow = await signIn(op, { dpop: key });
  if (!op.resource) throw new Error('no resource server');
  return { op, key, token: flow.tokens.access_token, url: op.resource.resourceUrl };
}

function call(url: string, headers: Record<string, string>, method = 'GET'): Promise<Response> {
  return fetch(url, { method, headers: { origin: APP, ...headers } });
}

const challenge = (res: Response): string => res.headers.get('www-authenticate') ?? '';

describe('the DPoP resource route', () => {
  test('refuses a DPoP-bound token presented as Bearer', async () => {
    const { token, url } = await boundSignIn();
    const res = await call(url, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(401);
    expect(challenge(res)).toMatch(/^DPoP error="invalid_token", .*algs="ES256"$/);
    expect(challenge(res)).toMatch(/DPoP scheme/);
  });

  test('accepts it with the DPoP scheme and a proof of the bound key', async () => {
    const { op, key, token, url } = await boundSignIn();
    const res = await call(url, { authorization: `DPoP ${token}`, dpop: await key.proof({ htm: 'GET', htu: url, accessToken: token }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ client_id: op.clientId, jkt: key.thumbprint });
    const post = await call(
      `${url}/items?x=1`,
      { authorization: `DPoP ${token}`, dpop: await key.proof({ htm: 'POST', htu: `${url}/items`, accessToken: token }) },
      'POST',
    );
    expect(post.status).toBe(200);
    expect(op.resource?.requests.map((r) => [r.scheme, r.status])).toEqual([
      ['DPoP', 200],
      ['DPoP', 200],
    ]);
  });

  test('asks for credentials when there are none', async () => {
    const { url } = await boundSignIn();
    const res = await call(url, {});
    expect(res.status).toBe(401);
    expect(challenge(res)).toBe('DPoP algs="ES256"');
  });

  test.each([
    [
      'another key',
      async (_key: DpopKey, token: string, url: string) => ({
        proof: await (await createDpopKey()).proof({ htm: 'GET', htu: url, accessToken: token }),
        error: 'invalid_token',
      }),
    ],
    [
      'a wrong ath',
      async (key: DpopKey, _token: string, url: string) => ({
        proof: await key.proof({ htm: 'GET', htu: url, accessToken: 'another token' }),
        error: 'invalid_dpop_proof',
      }),
    ],
    ['no ath', async (key: DpopKey, _token: string, url: string) => ({ proof: await key.proof({ htm: 'GET', htu: url }), error: 'invalid_dpop_proof' })],
    [
      'a wrong htm',
      async (key: DpopKey, token: string, url: string) => ({
        proof: await key.proof({ htm: 'POST', htu: url, accessToken: token }),
        error: 'invalid_dpop_proof',
      }),
    ],
    [
      'a wrong htu',
      async (key: DpopKey, token: string, url: string) => ({
        proof: await key.proof({ htm: 'GET', htu: `${url}/other`, accessToken: token }),
        error: 'invalid_dpop_proof',
      }),
    ],
    [
      'a stale iat',
      async (key: DpopKey, token: string, url: string) => ({
        proof: await key.proof({ htm: 'GET', htu: url, accessToken: token, iat: Math.floor(Date.now() / 1000) - 120 }),
        error: 'invalid_dpop_proof',
      }),
    ],
    ['a proof that is not a JWT', async () => ({ proof: 'not.a.jwt', error: 'invalid_dpop_proof' })],
  ])('refuses a proof with %s', async (_name, make) => {
    const { key, token, url } = await boundSignIn();
    const { proof, error } = await make(key, token, url);
    const res = await call(url, { authorization: `DPoP ${token}`, dpop: proof });
    expect(res.status).toBe(401);
    expect(challenge(res)).toContain(`error="${error}"`);
  });

  test('refuses a proof used twice', async () => {
    const { key, token, url } = await boundSignIn();
    const proof = await key.proof({ htm: 'GET', htu: url, accessToken: token });
    expect((await call(url, { authorization: `DPoP ${token}`, dpop: proof })).status).toBe(200);
    const again = await call(url, { authorization: `DPoP ${token}`, dpop: proof });
    expect(again.status).toBe(401);
    expect(challenge(again)).toContain('error="invalid_dpop_proof"');
  });

  test('refuses a revoked token', async () => {
    const { op, key, token, url } = await boundSignIn();
    const grantId = op.events.grantOf(token) ?? '';
    const refreshToken = op.currentRefreshToken(grantId) ?? '';
    await fetch(`${op.issuer}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refreshToken, client_id: op.clientId }),
    });
    const res = await call(url, { authorization: `DPoP ${token}`, dpop: await key.proof({ htm: 'GET', htu: url, accessToken: token }) });
    expect(res.status).toBe(401);
    expect(challenge(res)).toContain('error="invalid_token"');
  });

  test('demands a nonce when told to: use_dpop_nonce with DPoP-Nonce, then accepts the proof that carries it', async () => {
    const { op, key, token, url } = await boundSignIn();
    op.resource?.setRequireNonce(true);
    const first = await call(url, { authorization: `DPoP ${token}`, dpop: await key.proof({ htm: 'GET', htu: url, accessToken: token }) });
    expect(first.status).toBe(401);
    expect(challenge(first)).toContain('error="use_dpop_nonce"');
    const nonce = first.headers.get('dpop-nonce') ?? '';
    expect(nonce).toBe(op.resource?.nonce);
    const retry = await call(url, { authorization: `DPoP ${token}`, dpop: await key.proof({ htm: 'GET', htu: url, accessToken: token, nonce }) });
    expect(retry.status).toBe(200);
    op.resource?.rotateNonce();
    const stale = await call(url, { authorization: `DPoP ${token}`, dpop: await key.proof({ htm: 'GET', htu: url, accessToken: token, nonce }) });
    expect(challenge(stale)).toContain('error="use_dpop_nonce"');
  });

  test("lets the app's origin send Authorization and DPoP and read DPoP-Nonce, WWW-Authenticate and Date; refuses other origins", async () => {
    const { token, url } = await boundSignIn();
    const preflight = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin: APP, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization,dpop' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(APP);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization, dpop/);
    const answer = await call(url, { authorization: `Bearer ${token}` });
    expect(answer.headers.get('access-control-expose-headers')).toBe('DPoP-Nonce, WWW-Authenticate, Date');
    expect(answer.headers.get('date')).toBeTruthy();

    const other = await fetch(url, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:6666', 'access-control-request-method': 'GET' } });
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
