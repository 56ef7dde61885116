import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSessionToken, getSessionToken, revokeTestSessionToken, TestingApiError } from '../../origin/testing.ts';
import { InvalidArgumentError } from '../../protocol/errors.ts';
import { Browser, startOrigin, verifyWithOrigin, type RunningOrigin } from './harness.ts';

const secretKey = 'sk_test_harness';
let o: RunningOrigin;
let fake: Server;
let fakeUrl: string;
/** What the fake backend answers next: status and raw body. */
let fakeAnswer: { status: number; body: string } = { status: 200, body: '{}' };

beforeAll(async () => {
  o = await startOrigin({ templates: { api: { claims: { aud: 'api' } } } });
  fake = createServer((req, res) => {
    req.resume();
    res.statusCode = fakeAnswer.status;
    res.setHeader('content-type', 'application/json');
    res.end(fakeAnswer.body);
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await o.close();
  fake.closeAllConnections();
  await new Promise<void>((resolve) => fake.close(() => resolve()));
});

const goodToken = {
  object: 'test_session_token',
  id: 'tst_1',
  user_id: 'user_1',
  token: 'secret',
  status: 'pending',
  url: 'http://x.test/accept?token=secret',
  created_at: 1,
  updated_at: 2,
};

describe('createTestSessionToken, revokeTestSessionToken and getSessionToken against the origin', () => {
  it('creates a token a browser can accept, mints for its session, and revokes it', async () => {
    const created = await createTestSessionToken({
      apiUrl: o.base,
      secretKey,
      userId: 'user_helpers',
      sessionMaxDurationInSeconds: 600,
      redirectUrl: '/after',
    });
    expect(created).toEqual({
      id: expect.stringMatching(/^tst_/),
      userId: 'user_helpers',
      token: expect.any(String),
      status: 'pending',
      url: `${o.base}/v1/test_session_tokens/accept?token=${created.token}`,
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
    });
    const browser = new Browser(o.base);
    const accepted = await browser.fetch(new URL(created.url).pathname + new URL(created.url).search);
    expect(accepted.headers.get('location')).toBe(`${o.base}/after`);
    const client = (await (await browser.fetch('/v1/client')).json()) as { response: { last_active_session_id: string } };
    const sessionId = client.response.last_active_session_id;

    const jwt = await getSessionToken({ apiUrl: o.base, secretKey, sessionId });
    expect((await verifyWithOrigin(o.base, jwt)).payload.sub).toBe('user_helpers');
    const templated = await getSessionToken({ apiUrl: `${o.base}/`, secretKey, sessionId, template: 'api', expiresInSeconds: 3600 });
    const { payload } = await verifyWithOrigin(o.base, templated);
    expect(payload.aud).toBe('api');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);

    const revoked = await revokeTestSessionToken({ apiUrl: o.base, secretKey, id: created.id });
    expect(revoked.status).toBe('revoked');
    expect(revoked.updatedAt).toBeGreaterThanOrEqual(created.updatedAt);
    await expect(getSessionToken({ apiUrl: o.base, secretKey, sessionId })).rejects.toMatchObject({
      name: 'TestingApiError',
      status: 401,
      code: 'session_ended',
    });
  });

  it("throws TestingApiError with the status and code of the origin's error", async () => {
    const wrongKey = createTestSessionToken({ apiUrl: o.base, secretKey: 'sk_wrong', userId: 'user_x' });
    await expect(wrongKey).rejects.toBeInstanceOf(TestingApiError);
    await expect(wrongKey).rejects.toMatchObject({ status: 401, code: 'unauthorized', errors: [{ code: 'unauthorized' }] });
    await expect(createTestSessionToken({ apiUrl: o.base, secretKey, userId: 'user_x', redirectUrl: '//evil.com' })).rejects.toMatchObject({
      status: 422,
      code: 'form_param_invalid',
    });
    await expect(revokeTestSessionToken({ apiUrl: o.base, secretKey, id: 'tst_unknown' })).rejects.toMatchObject({
      status: 404,
      code: 'test_session_token_not_found',
    });
    await expect(getSessionToken({ apiUrl: o.base, secretKey, sessionId: 'sess_unknown' })).rejects.toMatchObject({ status: 404, code: 'session_not_found' });
  });

  it('throws network_error with status 0 when nothing answers', async () => {
    await expect(getSessionToken({ apiUrl: 'http://127.0.0.1:1', secretKey, sessionId: 'sess_x' })).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });

  it.each([
    ['an apiUrl that is not a URL', () => getSessionToken({ apiUrl: 'not a url', secretKey, sessionId: 'sess_x' })],
    ['an apiUrl that is not http', () => getSessionToken({ apiUrl: 'file:///etc', secretKey, sessionId: 'sess_x' })],
    ['an empty secret key', () => getSessionToken({ apiUrl: 'http://127.0.0.1:1', secretKey: '', sessionId: 'sess_x' })],
    ['a session id with a slash', () => getSessionToken({ apiUrl: 'http://127.0.0.1:1', secretKey, sessionId: 'sess/../x' })],
    ['a template with a dot', () => getSessionToken({ apiUrl: 'http://127.0.0.1:1', secretKey, sessionId: 'sess_x', template: 'a.b' })],
    ['a fractional expiresInSeconds', () => getSessionToken({ apiUrl: 'http://127.0.0.1:1', secretKey, sessionId: 'sess_x', expiresInSeconds: 1.5 })],
    ['an empty userId', () => createTestSessionToken({ apiUrl: 'http://127.0.0.1:1', secretKey, userId: '' })],
    ['a fractional duration', () => createTestSessionToken({ apiUrl: 'http://127.0.0.1:1', secretKey, userId: 'u', sessionMaxDurationInSeconds: 1.5 })],
    ['an empty id', () => revokeTestSessionToken({ apiUrl: 'http://127.0.0.1:1', secretKey, id: '' })],
  ])('rejects %s with InvalidArgumentError before any request', async (_what, call) => {
    await expect(call()).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('the helpers against a malformed backend', () => {
  it.each([
    ['a body that is not JSON', 200, 'not json'],
    ['a JSON array', 200, '[]'],
    ['a wrong object type', 200, JSON.stringify({ ...goodToken, object: 'token' })],
    ['a missing id', 200, JSON.stringify({ ...goodToken, id: undefined })],
    ['a numeric user_id', 200, JSON.stringify({ ...goodToken, user_id: 5 })],
    ['an unknown status', 200, JSON.stringify({ ...goodToken, status: 'done' })],
    ['a relative url', 200, JSON.stringify({ ...goodToken, url: '/accept' })],
    ['a string created_at', 200, JSON.stringify({ ...goodToken, created_at: '1' })],
    ['a missing updated_at', 200, JSON.stringify({ ...goodToken, updated_at: undefined })],
  ])('createTestSessionToken throws malformed_response for %s', async (_what, status, body) => {
    fakeAnswer = { status, body };
    await expect(createTestSessionToken({ apiUrl: fakeUrl, secretKey, userId: 'u' })).rejects.toMatchObject({
      name: 'TestingApiError',
      code: 'malformed_response',
      status,
    });
    await expect(revokeTestSessionToken({ apiUrl: fakeUrl, secretKey, id: 'tst_1' })).rejects.toMatchObject({ code: 'malformed_response' });
  });

  it('createTestSessionToken returns the camelCase token for a well-formed answer', async () => {
    fakeAnswer = { status: 200, body: JSON.stringify(goodToken) };
    expect(await createTestSessionToken({ apiUrl: fakeUrl, secretKey, userId: 'u' })).toEqual({
      id: 'tst_1',
      userId: 'user_1',
      token: 'secret',
      status: 'pending',
      url: 'http://x.test/accept?token=secret',
      createdAt: 1,
      updatedAt: 2,
    });
  });

  it.each([
    ['a body that is not JSON', '<html>'],
    ['no object', JSON.stringify({ jwt: 'a.b.c' })],
    ['a jwt that is not a string', JSON.stringify({ object: 'token', jwt: 1 })],
    ['a jwt that is not compact', JSON.stringify({ object: 'token', jwt: 'abc' })],
  ])('getSessionToken throws malformed_response for %s', async (_what, body) => {
    fakeAnswer = { status: 200, body };
    await expect(getSessionToken({ apiUrl: fakeUrl, secretKey, sessionId: 'sess_x' })).rejects.toMatchObject({ code: 'malformed_response', status: 200 });
  });

  it('reports an error status with an unreadable body as http_error', async () => {
    fakeAnswer = { status: 502, body: 'Bad Gateway' };
    const error = await getSessionToken({ apiUrl: fakeUrl, secretKey, sessionId: 'sess_x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TestingApiError);
    expect(error).toMatchObject({ status: 502, code: 'http_error', errors: [] });
    expect((error as Error).message).toContain('502');
  });
});
