/**
 * Options are validated at the edge (SPEC section 2): each bad value is an `InvalidArgumentError`
 * whose message names the option, and good values come out normalised.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../protocol/errors.ts';
import { normalizeGetTokenOptions, validateManagerOptions } from '../../client/options.ts';
import { configMismatch, parseEngineConfig } from '../../worker/engineConfig.ts';
import { parseVerify } from '../../origins/JwksVerifier.ts';
import { parseEndpointConfig } from '../../origins/endpoint/endpointConfig.ts';
import { workerKey } from '../../protocol/names.ts';
import { createTokenManager } from '../../client/createTokenManager.ts';

const PAGE = 'https://app.example.com';

function refusal(run: () => unknown): InvalidArgumentError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).code).toBe('invalid_argument');
    return error as InvalidArgumentError;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('createTokenManager options', () => {
  it('default to the page origin, polling every 5 s, persisting, with a 15 s leeway', () => {
    const { config, tab } = validateManagerOptions(undefined, PAGE);
    expect(config).toEqual({
      frontendApi: PAGE,
      namespace: '',
      persist: true,
      pollIntervalMs: 5000,
      verify: null,
      endpoints: {
        client: '/v1/client',
        token: '/v1/client/sessions/{sid}/tokens',
        templateToken: '/v1/client/sessions/{sid}/tokens/{template}',
        endSession: '/v1/client/sessions/{sid}/end',
      },
      credentials: 'include',
      oidc: null,
      endpoint: null,
    });
    expect(tab).toEqual({ sessionId: null, mode: 'auto', workerUrl: null, leewayInSeconds: 15, fetchOrigins: [] });
  });

  it('keep every good value, raise a small leeway to 15 s and resolve URLs against the page', () => {
    const { config, tab } = validateManagerOptions(
      {
        frontendApi: 'https://clerk.example.com/base/',
        sessionId: 'sess_1',
        mode: 'local',
        namespace: 'ns-1',
        workerUrl: '/assets/worker.js',
        persist: false,
        pollIntervalMs: 2000,
        leewayInSeconds: 3,
        verify: { jwksUrl: '/.well-known/jwks.json', issuer: 'https://clerk.example.com', algorithms: ['RS256'] },
        endpoints: { token: '/t/{sid}' },
        credentials: 'omit',
        fetchOrigins: ['https://api.example.com'],
      },
      PAGE,
    );
    expect(config.frontendApi).toBe('https://clerk.example.com/base');
    expect(config.verify).toEqual({ jwksUrl: `${PAGE}/.well-known/jwks.json`, issuer: 'https://clerk.example.com', algorithms: ['RS256'] });
    expect(config.endpoints.token).toBe('/t/{sid}');
    expect(config.endpoints.client).toBe('/v1/client');
    expect([config.persist, config.pollIntervalMs, config.credentials, config.namespace]).toEqual([false, 2000, 'omit', 'ns-1']);
    expect(tab.workerUrl?.href).toBe(`${PAGE}/assets/worker.js`);
    expect(tab).toMatchObject({ sessionId: 'sess_1', mode: 'local', leewayInSeconds: 15, fetchOrigins: ['https://api.example.com'] });
    expect(validateManagerOptions({ leewayInSeconds: 40 }, PAGE).tab.leewayInSeconds).toBe(40);
  });

  it.each([
    ['createTokenManager options', 'not an object'],
    ['createTokenManager options', { pollInterval: 2000 }],
    ['frontendApi', { frontendApi: 'ftp://example.com' }],
    // A host name without a scheme, or plain words, would otherwise resolve as paths of the page.
    ['frontendApi', { frontendApi: 'clerk.example.com' }],
    ['frontendApi', { frontendApi: 'not a url' }],
    ['frontendApi', { frontendApi: '//evil.example' }],
    ['frontendApi', { frontendApi: '/\\evil.example' }],
    ['frontendApi', { frontendApi: 42 }],
    ['frontendApi', { frontendApi: 'https://example.com/?q=1' }],
    ['frontendApi', { frontendApi: 'https://user:pw@example.com' }],
    ['sessionId', { sessionId: 'has space' }],
    ['sessionId', { sessionId: '' }],
    ['mode', { mode: 'worker' }],
    ['namespace', { namespace: 'a/b' }],
    ['namespace', { namespace: 'x'.repeat(65) }],
    ['workerUrl', { workerUrl: 'javascript:alert(1)' }],
    ['persist', { persist: 'yes' }],
    ['pollIntervalMs', { pollIntervalMs: 999 }],
    ['pollIntervalMs', { pollIntervalMs: 60_001 }],
    ['pollIntervalMs', { pollIntervalMs: 1500.5 }],
    ['leewayInSeconds', { leewayInSeconds: -1 }],
    ['leewayInSeconds', { leewayInSeconds: Number.NaN }],
    ['leewayInSeconds', { leewayInSeconds: '20' }],
    ['verify', { verify: 'https://example.com/jwks' }],
    ['verify', { verify: { jwksUrl: '/jwks', audience: 'x' } }],
    ['verify.jwksUrl', { verify: {} }],
    ['endpoints', { endpoints: { refresh: '/r' } }],
    ['endpoints.token', { endpoints: { token: 'https://evil.example/{sid}' } }],
    ['endpoints.token', { endpoints: { token: '//evil.example/{sid}' } }],
    ['endpoints.token', { endpoints: { token: '/t\\x/{sid}' } }],
    ['credentials', { credentials: 'always' }],
    ['fetchOrigins', { fetchOrigins: 'https://api.example.com' }],
    ['fetchOrigins[0]', { fetchOrigins: ['https://api.example.com/path'] }],
    ['fetchOrigins[1]', { fetchOrigins: ['https://a.example.com', 'not a url'] }],
  ])('refuse a bad %s', (option, options) => {
    const error = refusal(() => validateManagerOptions(options, PAGE));
    expect(error.message.startsWith(`${option} must be `)).toBe(true);
  });

  it('take OpenID Connect options, the issuer as given, with the defaults of SPEC 11', () => {
    const { config } = validateManagerOptions(
      { oidc: { issuer: 'https://login.example.com/tenant/v2.0', clientId: 'app', redirectUri: `${PAGE}/callback` } },
      PAGE,
    );
    expect(config.oidc).toEqual({
      issuer: 'https://login.example.com/tenant/v2.0',
      clientId: 'app',
      redirectUri: `${PAGE}/callback`,
      scope: 'openid offline_access',
      resource: null,
      dpop: null,
      postLogoutRedirectUri: null,
    });
    expect(config.credentials).toBe('omit');
    // Plain http only on loopback hosts.
    for (const issuer of ['http://localhost:8080', 'http://127.0.0.1:9000/', 'http://auth.localhost', 'http://[::1]:3000']) {
      expect(validateManagerOptions({ oidc: { issuer, clientId: 'app', redirectUri: `${PAGE}/cb` } }, PAGE).config.oidc?.issuer).toBe(issuer);
    }
    expect(parseEngineConfig(JSON.parse(JSON.stringify(config)))).toEqual(config);
  });

  it.each([
    ['frontendApi', { frontendApi: 'https://clerk.example.com' }],
    ['sessionId', { sessionId: 'sess_1' }],
    ['endpoints', { endpoints: { client: '/c' } }],
    ['verify', { verify: { jwksUrl: '/jwks' } }],
    ['credentials', { credentials: 'include' }],
  ])('refuse oidc combined with %s', (option, extra) => {
    const error = refusal(() =>
      validateManagerOptions({ oidc: { issuer: 'https://op.example.com', clientId: 'app', redirectUri: `${PAGE}/cb` }, ...extra }, PAGE),
    );
    expect(error.message).toMatch(new RegExp(`^createTokenManager options with oidc must be an object with only .*; got "${option}"$`));
  });

  it.each([
    ['oidc.issuer', { issuer: 'http://op.example.com', clientId: 'app', redirectUri: `${PAGE}/cb` }],
    ['oidc.issuer', { issuer: 'https://op.example.com/?tenant=1', clientId: 'app', redirectUri: `${PAGE}/cb` }],
    ['oidc.issuer', { issuer: 'not a url', clientId: 'app', redirectUri: `${PAGE}/cb` }],
    ['oidc.clientId', { issuer: 'https://op.example.com', redirectUri: `${PAGE}/cb` }],
    ['oidc.clientId', { issuer: 'https://op.example.com', clientId: 'has space', redirectUri: `${PAGE}/cb` }],
    ['oidc.redirectUri', { issuer: 'https://op.example.com', clientId: 'app', redirectUri: '/cb' }],
    ['oidc.redirectUri', { issuer: 'https://op.example.com', clientId: 'app', redirectUri: 'https://evil.example.com/cb' }],
    [
      'oidc.postLogoutRedirectUri',
      { issuer: 'https://op.example.com', clientId: 'app', redirectUri: `${PAGE}/cb`, postLogoutRedirectUri: 'https://evil.example.com/' },
    ],
    ['oidc', { issuer: 'https://op.example.com', clientId: 'app', redirectUri: `${PAGE}/cb`, audience: 'x' }],
  ])('refuse a bad %s', (option, oidc) => {
    const error = refusal(() => validateManagerOptions({ oidc }, PAGE));
    expect(error.message.startsWith(`${option} must be `)).toBe(true);
  });

  it('are validated again in the worker, which names the option a tab got wrong', () => {
    const { config } = validateManagerOptions({ pollIntervalMs: 2000 }, PAGE);
    expect(parseEngineConfig(JSON.parse(JSON.stringify(config)))).toEqual(config);
    expect(refusal(() => parseEngineConfig({ ...config, pollIntervalMs: 5 })).message).toBe('pollIntervalMs is not valid here; got 5');
    refusal(() => parseEngineConfig(null));
    expect(configMismatch(config, { ...config, persist: false })).toBe('persist');
    expect(configMismatch(config, { ...config })).toBeNull();
  });

  it.each([
    ['verify.issuer', { verify: { jwksUrl: '/jwks', issuer: '' } }],
    ['verify.issuer', { verify: { jwksUrl: '/jwks', issuer: 5 } }],
    ['verify.algorithms', { verify: { jwksUrl: '/jwks', algorithms: ['none'] } }],
    ['verify.algorithms', { verify: { jwksUrl: '/jwks', algorithms: ['NoNe'] } }],
    ['verify.algorithms', { verify: { jwksUrl: '/jwks', algorithms: ['RS256', 'HS256'] } }],
    ['verify.algorithms', { verify: { jwksUrl: '/jwks', algorithms: ['hs512'] } }],
    ['verify.algorithms', { verify: { jwksUrl: '/jwks', algorithms: [] } }],
    ['verify.algorithms', { verify: { jwksUrl: '/jwks', algorithms: 'RS256' } }],
    ['verify.algorithms', { verify: { jwksUrl: '/jwks', algorithms: [''] } }],
    ['endpoints.token', { endpoints: { token: '/tokens' } }],
    ['endpoints.templateToken', { endpoints: { templateToken: '/t/{sid}' } }],
    ['endpoints.templateToken', { endpoints: { templateToken: '/t/{template}' } }],
    ['endpoints.endSession', { endpoints: { endSession: '/end' } }],
    ['oidc.scope', { oidc: { issuer: 'https://op.example.com', clientId: 'app', redirectUri: `${PAGE}/cb`, scope: 'profile email' } }],
    ['oidc.scope', { oidc: { issuer: 'https://op.example.com', clientId: 'app', redirectUri: `${PAGE}/cb`, scope: 'openidx' } }],
    ['oidc.scope', { oidc: { issuer: 'https://op.example.com', clientId: 'app', redirectUri: `${PAGE}/cb`, scope: ['openid'] } }],
    ['oidc.resource', { oidc: { issuer: 'https://op.example.com', clientId: 'app', redirectUri: `${PAGE}/cb`, resource: 'https://api.example.com/#frag' } }],
    ['oidc.resource', { oidc: { issuer: 'https://op.example.com', clientId: 'app', redirectUri: `${PAGE}/cb`, resource: '/api' } }],
    ['oidc.dpop', { oidc: { issuer: 'https://op.example.com', clientId: 'app', redirectUri: `${PAGE}/cb`, dpop: 'yes' } }],
  ])('refuse a bad %s at once, not when the engine starts', (option, options) => {
    expect(refusal(() => validateManagerOptions(options, PAGE)).message.startsWith(`${option} must be `)).toBe(true);
    // createTokenManager itself throws, synchronously: nothing is left for `ready` (Node has no
    // location: the page is http://localhost).
    const here = JSON.parse(JSON.stringify(options).replaceAll(PAGE, 'http://localhost')) as object;
    expect(refusal(() => createTokenManager(here)).message.startsWith(`${option} must be `)).toBe(true);
  });

  it('keep the placeholders rule, the scope and the algorithms that are right', () => {
    const { config } = validateManagerOptions(
      {
        verify: { jwksUrl: '/jwks', issuer: 'https://i', algorithms: ['RS256', 'ES256', 'EdDSA', 'PS512'] },
        endpoints: { client: '/c', templateToken: '/t/{template}/{sid}' },
      },
      PAGE,
    );
    expect(config.verify?.algorithms).toEqual(['RS256', 'ES256', 'EdDSA', 'PS512']);
    expect(config.endpoints).toMatchObject({ client: '/c', templateToken: '/t/{template}/{sid}' });
    const oidc = validateManagerOptions(
      {
        oidc: {
          issuer: 'https://op.example.com',
          clientId: 'app',
          redirectUri: `${PAGE}/cb`,
          scope: 'profile openid',
          resource: 'urn:example:api',
          dpop: false,
        },
      },
      PAGE,
    ).config.oidc;
    expect(oidc).toMatchObject({ scope: 'profile openid', resource: 'urn:example:api', dpop: false });
    expect(parseEngineConfig(JSON.parse(JSON.stringify(config)))).toEqual(config);
  });

  it('are refused by the worker too, which trusts no tab (an HMAC algorithm, a path without its placeholder)', () => {
    const { config } = validateManagerOptions({ verify: { jwksUrl: '/jwks' } }, PAGE);
    // `verify` is checked where it is used: by the verifier, a chunk of its own, when it is made.
    expect(refusal(() => parseVerify({ jwksUrl: `${PAGE}/jwks`, algorithms: ['HS256'] })).message).toMatch(/^verify\.algorithms is not valid here/);
    expect(refusal(() => parseVerify({ jwksUrl: `${PAGE}/jwks`, algorithms: ['none'] })).message).toMatch(/^verify\.algorithms is not valid here/);
    expect(refusal(() => parseVerify({ jwksUrl: 'ftp://x/jwks' })).message).toMatch(/^verify\.jwksUrl is not valid here/);
    expect(refusal(() => parseEngineConfig({ ...config, endpoints: { ...config.endpoints, token: '/tokens' } })).message).toMatch(
      /^endpoints\.token is not valid here/,
    );
  });

  it('read an option given as undefined as not given', () => {
    const { config, tab } = validateManagerOptions({ pollIntervalMs: undefined, endpoints: { token: undefined }, oidc: undefined, mode: undefined }, PAGE);
    expect(config.pollIntervalMs).toBe(5000);
    expect(config.endpoints.token).toBe('/v1/client/sessions/{sid}/tokens');
    expect(tab.mode).toBe('auto');
    const oidc = validateManagerOptions(
      { oidc: { issuer: 'https://op.example.com', clientId: 'app', redirectUri: `${PAGE}/cb`, scope: undefined, dpop: undefined } },
      PAGE,
    ).config.oidc;
    expect(oidc).toMatchObject({ scope: 'openid offline_access', dpop: null, resource: null });
  });
});

describe('getToken options', () => {
  it('normalise to a request with the tab leeway when the call names none', () => {
    expect(normalizeGetTokenOptions({}, 30)).toEqual({ template: null, organizationId: null, expiresInSeconds: null, skipCache: false, leewayInSeconds: 30 });
    expect(normalizeGetTokenOptions({ template: 'api', organizationId: null, expiresInSeconds: 3600, skipCache: true, leewayInSeconds: 1 }, 30)).toEqual({
      template: 'api',
      organizationId: null,
      expiresInSeconds: 3600,
      skipCache: true,
      leewayInSeconds: 15,
    });
    expect(normalizeGetTokenOptions({ organizationId: 'org_1' }).organizationId).toBe('org_1');
  });

  it.each([
    ['getToken options', 'api'],
    ['getToken options', { templat: 'api' }],
    ['template', { template: 'a/b' }],
    ['template', { template: '' }],
    ['organizationId', { organizationId: 'o o' }],
    ['expiresInSeconds', { expiresInSeconds: 0 }],
    ['expiresInSeconds', { expiresInSeconds: 315_360_001 }],
    ['skipCache', { skipCache: 1 }],
    ['leewayInSeconds', { leewayInSeconds: Infinity }],
    ['leewayInSeconds', { leewayInSeconds: null }],
  ])('refuse a bad %s', (option, options) => {
    expect(refusal(() => normalizeGetTokenOptions(options)).message.startsWith(`${option} must be `)).toBe(true);
  });
});

describe('the endpoint option (SPEC 13)', () => {
  const OWN = { tokenUrl: '/api/auth/token' };

  it('resolves a path on the page, fills in the defaults, and names the worker after the token URL', () => {
    const { config } = validateManagerOptions({ namespace: 'ns', endpoint: OWN }, PAGE);
    expect(config.endpoint).toEqual({ tokenUrl: `${PAGE}/api/auth/token`, method: 'POST', signOutUrl: null, headers: {}, credentials: 'include' });
    expect(config.frontendApi).toBe(PAGE);
    expect(config.credentials).toBe('include');
    expect(workerKey(config)).toBe(`tabtoken:v1:ns:endpoint:${PAGE}/api/auth/token`);
    // A Clerk manager of the same origin is another worker.
    expect(workerKey(validateManagerOptions({ namespace: 'ns' }, PAGE).config)).toBe(`tabtoken:v1:ns:${PAGE}`);
    expect(parseEngineConfig(JSON.parse(JSON.stringify(config)))).toEqual(config);
  });

  it('keeps every good value', () => {
    const endpoint = {
      tokenUrl: 'https://auth.example.com/token?kind=access',
      method: 'GET',
      signOutUrl: '/api/auth/sign-out',
      headers: { 'X-CSRF-Token': 'abc 123', 'x-requested-with': 'tabtoken' },
      credentials: 'same-origin',
    } as const;
    const { config } = validateManagerOptions({ endpoint, verify: { jwksUrl: '/api/auth/jwks' }, fetchOrigins: ['https://api.example.com'] }, PAGE);
    expect(config.endpoint).toEqual({ ...endpoint, signOutUrl: `${PAGE}/api/auth/sign-out` });
    expect(config.frontendApi).toBe('https://auth.example.com');
    expect(config.credentials).toBe('same-origin');
    expect(config.verify).toEqual({ jwksUrl: `${PAGE}/api/auth/jwks` });
    expect(parseEngineConfig(JSON.parse(JSON.stringify(config)))).toEqual(config);
    expect(configMismatch(config, { ...config, endpoint: { ...config.endpoint!, method: 'POST' } })).toBe('endpoint');
    // Plain http only on loopback hosts.
    for (const tokenUrl of ['http://localhost:3000/t', 'http://127.0.0.1/t', 'http://127.8.9.10:81/t', 'http://[::1]:8080/t', 'http://app.localhost/t']) {
      expect(validateManagerOptions({ endpoint: { tokenUrl } }, PAGE).config.endpoint?.tokenUrl).toBe(new URL(tokenUrl).href);
    }
  });

  it.each([
    ['endpoint.tokenUrl', {}],
    ['endpoint.tokenUrl', { tokenUrl: '//evil.example/token' }],
    ['endpoint.tokenUrl', { tokenUrl: '/\\evil.example/token' }],
    ['endpoint.tokenUrl', { tokenUrl: '/\t/evil.example/token' }],
    ['endpoint.tokenUrl', { tokenUrl: '/\n/evil.example/token' }],
    ['endpoint.tokenUrl', { tokenUrl: 'javascript:x' }],
    ['endpoint.tokenUrl', { tokenUrl: 'http://evil.example/token' }],
    ['endpoint.tokenUrl', { tokenUrl: 'http://192.168.1.2/token' }],
    ['endpoint.tokenUrl', { tokenUrl: 'auth.example.com/token' }],
    ['endpoint.tokenUrl', { tokenUrl: 'https://user:pw@auth.example.com/token' }],
    ['endpoint.tokenUrl', { tokenUrl: 'https://auth.example.com/token#x' }],
    ['endpoint.tokenUrl', { tokenUrl: 42 }],
    ['endpoint.signOutUrl', { ...OWN, signOutUrl: '//evil.example/out' }],
    ['endpoint.signOutUrl', { ...OWN, signOutUrl: 'http://evil.example/out' }],
    ['endpoint.method', { ...OWN, method: 'PUT' }],
    ['endpoint.method', { ...OWN, method: 'get' }],
    ['endpoint.credentials', { ...OWN, credentials: 'always' }],
    ['endpoint.headers', { ...OWN, headers: 'X-CSRF: 1' }],
    ['endpoint.headers', { ...OWN, headers: ['X-CSRF'] }],
    ['endpoint.headers.Authorization', { ...OWN, headers: { Authorization: 'Bearer x' } }],
    ['endpoint.headers.authorization', { ...OWN, headers: { authorization: 'Bearer x' } }],
    ['endpoint.headers.COOKIE', { ...OWN, headers: { COOKIE: 'a=b' } }],
    ['endpoint.headers.DPoP', { ...OWN, headers: { DPoP: 'x' } }],
    ['endpoint.headers.dpop', { ...OWN, headers: { dpop: 'x' } }],
    ['endpoint.headers.X Bad', { ...OWN, headers: { 'X Bad': '1' } }],
    ['endpoint.headers.X_Bad', { ...OWN, headers: { X_Bad: '1' } }],
    ['endpoint.headers.X-Line', { ...OWN, headers: { 'X-Line': 'a\r\nb' } }],
    ['endpoint.headers.X-Long', { ...OWN, headers: { 'X-Long': 'a'.repeat(1025) } }],
    ['endpoint.headers.X-Number', { ...OWN, headers: { 'X-Number': 5 } }],
    ['endpoint.headers.X-Accent', { ...OWN, headers: { 'X-Accent': 'é' } }],
    ['endpoint', { ...OWN, audience: 'x' }],
    ['endpoint', 'https://auth.example.com/token'],
  ])('refuses a bad %s at once', (option, endpoint) => {
    expect(refusal(() => validateManagerOptions({ endpoint }, PAGE)).message.startsWith(`${option} must be `)).toBe(true);
    expect(refusal(() => createTokenManager({ endpoint } as never)).message.startsWith(`${option} must be `)).toBe(true);
  });

  it('takes a header value of 1024 printable characters, and none at all', () => {
    const headers = { 'X-Max': '~'.repeat(1024), 'X-Empty': '' };
    expect(validateManagerOptions({ endpoint: { ...OWN, headers } }, PAGE).config.endpoint?.headers).toEqual(headers);
  });

  it.each([
    ['frontendApi', { frontendApi: 'https://clerk.example.com' }],
    ['sessionId', { sessionId: 'sess_1' }],
    ['endpoints', { endpoints: { client: '/c' } }],
    ['credentials', { credentials: 'include' }],
  ])('refuses endpoint combined with %s', (option, extra) => {
    const error = refusal(() => createTokenManager({ endpoint: OWN, ...extra } as never));
    expect(error.message).toMatch(new RegExp(`^createTokenManager options with endpoint must be an object with only .*; got "${option}"$`));
  });

  it('refuses endpoint combined with oidc', () => {
    const error = refusal(() =>
      createTokenManager({ endpoint: OWN, oidc: { issuer: 'https://op.example.com', clientId: 'app', redirectUri: `${PAGE}/cb` } } as never),
    );
    expect(error.message).toMatch(/^createTokenManager options with oidc must be an object with only .*; got "endpoint"$/);
  });

  it('is refused by the worker when a tab sends a bad one', () => {
    const { config } = validateManagerOptions({ endpoint: OWN }, PAGE);
    // Checked where it is used: by the endpoint adapter (a chunk of its own), when it is made.
    const bad = (endpoint: object) => refusal(() => parseEndpointConfig({ ...config.endpoint, ...endpoint })).message;
    expect(bad({ tokenUrl: 'http://evil.example/token' })).toMatch(/^endpoint\.tokenUrl is not valid here/);
    expect(bad({ tokenUrl: 'javascript:x' })).toMatch(/^endpoint\.tokenUrl is not valid here/);
    expect(bad({ method: 'DELETE' })).toMatch(/^endpoint\.method is not valid here/);
    expect(bad({ headers: { Cookie: 'a=b' } })).toMatch(/^endpoint\.headers is not valid here/);
    expect(bad({ headers: JSON.parse('{"__proto__":"x"}') })).toMatch(/^endpoint\.headers is not valid here/);
    expect(bad({ credentials: 'always' })).toMatch(/^endpoint\.credentials is not valid here/);
    expect(bad({ signOutUrl: '//evil.example' })).toMatch(/^endpoint\.signOutUrl is not valid here/);
  });
});

describe('getToken options of a one-token manager (oidc, endpoint)', () => {
  it.each([
    ['template', { template: 'api' }],
    ['organizationId', { organizationId: 'org_1' }],
    ['expiresInSeconds', { expiresInSeconds: 60 }],
  ])('refuse %s', (key, options) => {
    const error = refusal(() => normalizeGetTokenOptions(options, 15, true));
    expect(error.message).toMatch(new RegExp(`^getToken options .* must be an object with only skipCache, leewayInSeconds; got "${key}"$`));
  });
});
