/**
 * The error table of SPEC section 9: every bad request gets its status and code, and leaves the
 * origin as it was — no mint counted, the session still usable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, errorCode, rawRequest, startOrigin, stats, type RunningOrigin } from './harness.ts';

let o: RunningOrigin;
let browser: Browser;
let sid: string;
let endedSid: string;
let otherClientsSid: string;

beforeAll(async () => {
  o = await startOrigin({ faults: true, templates: { api: { claims: { aud: 'api' } } } });
  browser = new Browser(o.base);
  sid = await browser.signIn('table-user');
  endedSid = await browser.signIn('table-user');
  await browser.fetch(`/v1/client/sessions/${endedSid}/end`, { method: 'POST' });
  const other = new Browser(o.base);
  otherClientsSid = await other.signIn('someone-else');
});
afterAll(() => o.close());

/** Asserts that nothing changed: no mint counted, and the good session still mints. */
async function expectNoStateChange(run: () => Promise<void>): Promise<void> {
  const before = await stats(o.base);
  await run();
  const after = await stats(o.base);
  expect(after.mints).toBe(before.mints);
  expect(after.sessions).toEqual(before.sessions);
  const check = await browser.mint(sid);
  expect(check.status).toBe(200);
}

type MintCase = { name: string; status: number; code: string; send: () => Promise<{ status: number; code: string | null }> };

const viaFetch = (res: Promise<Response>) => async () => {
  const r = await res;
  return { status: r.status, code: await errorCode(r) };
};

const cases: MintCase[] = [
  ...['0', '29', '-1', '1.5', 'abc', '1e12', '', '315360001', '1000000000000', ' 60'].map(
    (value): MintCase => ({
      name: `expires_in_seconds=${JSON.stringify(value)}`,
      status: 422,
      code: 'form_param_format_invalid',
      send: () => viaFetch(browser.mint(sid, { form: { expires_in_seconds: value } }))(),
    }),
  ),
  ...['0', '29', '1.5', 'abc', '1e12'].map(
    (value): MintCase => ({
      name: `expires_in_seconds=${JSON.stringify(value)} with a template`,
      status: 422,
      code: 'form_param_format_invalid',
      send: () => viaFetch(browser.mint(sid, { template: 'api', form: { expires_in_seconds: value } }))(),
    }),
  ),
  ...[0, 29, -1, 1.5, 1e12, [60], true, 'abc'].map(
    (value): MintCase => ({
      name: `JSON expires_in_seconds ${JSON.stringify(value)}`,
      status: 422,
      code: 'form_param_format_invalid',
      send: () =>
        viaFetch(
          browser.fetch(`/v1/client/sessions/${sid}/tokens`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ expires_in_seconds: value }),
          }),
        )(),
    }),
  ),
  {
    name: 'expires_in_seconds given twice',
    status: 422,
    code: 'form_param_format_invalid',
    send: () =>
      viaFetch(
        browser.fetch(`/v1/client/sessions/${sid}/tokens`, {
          method: 'POST',
          body: new URLSearchParams([
            ['expires_in_seconds', '60'],
            ['expires_in_seconds', '90'],
          ]),
        }),
      )(),
  },
  {
    name: 'an organization_id that is not URL-safe',
    status: 422,
    code: 'form_param_format_invalid',
    send: () => viaFetch(browser.mint(sid, { form: { organization_id: 'org/../x' } }))(),
  },
  { name: 'an undeclared template', status: 404, code: 'template_not_found', send: () => viaFetch(browser.mint(sid, { template: 'nope' }))() },
  { name: 'a template with a dot', status: 400, code: 'invalid_template', send: () => viaFetch(browser.mint(sid, { template: 'a..b' }))() },
  { name: 'a template with an encoded slash', status: 400, code: 'invalid_template', send: () => viaFetch(browser.mint(sid, { template: 'api%2Fx' }))() },
  { name: 'a template with a slash', status: 400, code: 'invalid_template', send: () => viaFetch(browser.mint(sid, { template: 'api/x' }))() },
  { name: 'an empty template segment', status: 400, code: 'invalid_template', send: () => viaFetch(browser.mint(sid, { template: '' }))() },
  { name: 'a template of 65 characters', status: 400, code: 'invalid_template', send: () => viaFetch(browser.mint(sid, { template: 'a'.repeat(65) }))() },
  {
    name: 'a template segment ".." sent raw',
    status: 400,
    code: 'invalid_template',
    send: async () => {
      const res = await rawRequest(o.base, { method: 'POST', path: `/v1/client/sessions/${sid}/tokens/..`, headers: { cookie: `__client=${browser.cookie}` } });
      return { status: res.status, code: (JSON.parse(res.body) as { errors: { code: string }[] }).errors[0]?.code ?? null };
    },
  },
  { name: 'no cookie', status: 401, code: 'client_not_found', send: () => viaFetch(new Browser(o.base).mint(sid))() },
  {
    name: 'an unknown cookie',
    status: 401,
    code: 'client_not_found',
    send: () => viaFetch(fetch(`${o.base}/v1/client/sessions/${sid}/tokens`, { method: 'POST', headers: { cookie: '__client=client_forged' } }))(),
  },
  { name: 'an unknown session', status: 404, code: 'session_not_found', send: () => viaFetch(browser.mint('sess_unknown'))() },
  { name: 'a session of another client', status: 404, code: 'session_not_found', send: () => viaFetch(browser.mint(otherClientsSid))() },
  { name: 'an ended session', status: 401, code: 'session_ended', send: () => viaFetch(browser.mint(endedSid))() },
  {
    name: 'an ended session, even with a bad template',
    status: 401,
    code: 'session_ended',
    send: () => viaFetch(browser.mint(endedSid, { template: 'a..b' }))(),
  },
  {
    name: 'an unknown session, even with a bad expires_in_seconds',
    status: 404,
    code: 'session_not_found',
    send: () => viaFetch(browser.mint('sess_unknown', { form: { expires_in_seconds: '1' } }))(),
  },
  {
    name: 'a bad template, even with a bad expires_in_seconds',
    status: 400,
    code: 'invalid_template',
    send: () => viaFetch(browser.mint(sid, { template: 'a.b', form: { expires_in_seconds: '1' } }))(),
  },
];

describe('bad token requests', () => {
  it.each(cases)('answers $status $code to $name and changes nothing', async ({ status, code, send }) => {
    await expectNoStateChange(async () => {
      const answer = await send();
      expect(answer.status).toBe(status);
      expect(answer.code).toBe(code);
    });
  });

  it('gives every error a message and a long_message', async () => {
    const res = await browser.mint(sid, { template: 'nope' });
    const body = (await res.json()) as { errors: { code: string; message: string; long_message: string }[] };
    expect(body.errors).toHaveLength(1);
    expect(typeof body.errors[0]?.message).toBe('string');
    expect(typeof body.errors[0]?.long_message).toBe('string');
  });
});

describe('bad backend requests', () => {
  const backend = (path: string, init: { key?: string | null; body?: unknown; authorization?: string } = {}) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (init.authorization !== undefined) headers.authorization = init.authorization;
    else if (init.key !== null) headers.authorization = `Bearer ${init.key ?? 'sk_test_harness'}`;
    return fetch(`${o.base}${path}`, { method: 'POST', headers, body: JSON.stringify(init.body ?? {}) });
  };

  const backendCases: { name: string; status: number; code: string; send: () => Promise<Response> }[] = [
    { name: 'no secret key', status: 401, code: 'unauthorized', send: () => backend(`/v1/sessions/${sid}/tokens`, { key: null }) },
    { name: 'a wrong secret key', status: 401, code: 'unauthorized', send: () => backend(`/v1/sessions/${sid}/tokens`, { key: 'sk_test_wrong' }) },
    { name: 'a key prefix of the right one', status: 401, code: 'unauthorized', send: () => backend(`/v1/sessions/${sid}/tokens`, { key: 'sk_test_harnes' }) },
    {
      name: 'the key in Basic auth',
      status: 401,
      code: 'unauthorized',
      send: () => backend(`/v1/sessions/${sid}/tokens`, { authorization: 'Basic sk_test_harness' }),
    },
    { name: 'an unknown session', status: 404, code: 'session_not_found', send: () => backend('/v1/sessions/sess_unknown/tokens') },
    { name: 'an ended session', status: 401, code: 'session_ended', send: () => backend(`/v1/sessions/${endedSid}/tokens`) },
    { name: 'an undeclared template', status: 404, code: 'template_not_found', send: () => backend(`/v1/sessions/${sid}/tokens/nope`) },
    { name: 'a template with an encoded slash', status: 400, code: 'invalid_template', send: () => backend(`/v1/sessions/${sid}/tokens/a%2Fb`) },
    ...[0, 29, -1, 1.5, 1e12, 'abc'].map((value) => ({
      name: `expires_in_seconds ${JSON.stringify(value)}`,
      status: 422,
      code: 'form_param_format_invalid',
      send: () => backend(`/v1/sessions/${sid}/tokens`, { body: { expires_in_seconds: value } }),
    })),
    {
      name: 'a body that is not JSON',
      status: 400,
      code: 'invalid_request_body',
      send: () =>
        fetch(`${o.base}/v1/sessions/${sid}/tokens`, {
          method: 'POST',
          headers: { authorization: 'Bearer sk_test_harness', 'content-type': 'application/json' },
          body: '{',
        }),
    },
    { name: 'a test session token without user_id', status: 422, code: 'form_param_invalid', send: () => backend('/v1/test_session_tokens', { body: {} }) },
    {
      name: 'a test session token with a non-string user_id',
      status: 422,
      code: 'form_param_invalid',
      send: () => backend('/v1/test_session_tokens', { body: { user_id: 7 } }),
    },
    ...[59, 604_801, 1.5, '1800x', -60].map((value) => ({
      name: `session_max_duration_in_seconds ${JSON.stringify(value)}`,
      status: 422,
      code: 'form_param_invalid',
      send: () => backend('/v1/test_session_tokens', { body: { user_id: 'user_table', session_max_duration_in_seconds: value } }),
    })),
    {
      name: 'a test session token create without the key',
      status: 401,
      code: 'unauthorized',
      send: () => backend('/v1/test_session_tokens', { key: null, body: { user_id: 'user_table' } }),
    },
    { name: 'a test session token read without the key', status: 401, code: 'unauthorized', send: () => fetch(`${o.base}/v1/test_session_tokens/tst_x`) },
    {
      name: 'an unknown test session token read',
      status: 404,
      code: 'test_session_token_not_found',
      send: () => fetch(`${o.base}/v1/test_session_tokens/tst_x`, { headers: { authorization: 'Bearer sk_test_harness' } }),
    },
    {
      name: 'an unknown test session token revoke',
      status: 404,
      code: 'test_session_token_not_found',
      send: () => backend('/v1/test_session_tokens/tst_x/revoke'),
    },
    {
      name: 'a test session token revoke without the key',
      status: 401,
      code: 'unauthorized',
      send: () => backend('/v1/test_session_tokens/tst_x/revoke', { key: 'nope' }),
    },
  ];

  it.each(backendCases)('answers $status $code to $name and changes nothing', async ({ status, code, send }) => {
    await expectNoStateChange(async () => {
      const res = await send();
      expect(res.status).toBe(status);
      expect(await errorCode(res)).toBe(code);
    });
  });
});
