/**
 * Options are validated at the edge (SPEC section 2): each bad value is an `InvalidArgumentError`
 * whose message names the option, and good values come out normalised.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../protocol/errors.ts';
import { normalizeGetTokenOptions, validateManagerOptions } from '../../client/options.ts';
import { configMismatch, parseEngineConfig } from '../../worker/engineConfig.ts';

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
    });
    expect(tab).toEqual({ sessionId: null, mode: 'auto', workerUrl: null, leewayInSeconds: 15, fetchOrigins: [] });
  });

  it('keep every good value, raise a small leeway to 15 s and resolve URLs against the page', () => {
    const { config, tab } = validateManagerOptions({
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
    }, PAGE);
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
    const { config } = validateManagerOptions({ oidc: { issuer: 'https://login.example.com/tenant/v2.0', clientId: 'app', redirectUri: `${PAGE}/callback` } }, PAGE);
    expect(config.oidc).toEqual({ issuer: 'https://login.example.com/tenant/v2.0', clientId: 'app', redirectUri: `${PAGE}/callback`, scope: 'openid offline_access', resource: null, dpop: null, postLogoutRedirectUri: null });
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
    const error = refusal(() => validateManagerOptions({ oidc: { issuer: 'https://op.example.com', clientId: 'app', redirectUri: `${PAGE}/cb` }, ...extra }, PAGE));
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
    ['oidc.postLogoutRedirectUri', { issuer: 'https://op.example.com', clientId: 'app', redirectUri: `${PAGE}/cb`, postLogoutRedirectUri: 'https://evil.example.com/' }],
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
    ['verify.algorithms', { verify: { jwksUrl: '/jwks', algorithms: ['none'] } }],
    ['verify.algorithms', { verify: { jwksUrl: '/jwks', algorithms: [] } }],
    ['endpoints.token', { endpoints: { token: '/tokens' } }],
    ['endpoints.templateToken', { endpoints: { templateToken: '/t/{sid}' } }],
  ])('take %s as given, for the engine to refuse when it starts (ready rejects)', (option, options) => {
    const { config } = validateManagerOptions(options, PAGE);
    expect(refusal(() => parseEngineConfig(JSON.parse(JSON.stringify(config)))).message.startsWith(`${option} is not valid here; got `)).toBe(true);
  });

  it('read an option given as undefined as not given', () => {
    const { config, tab } = validateManagerOptions({ pollIntervalMs: undefined, endpoints: { token: undefined }, oidc: undefined, mode: undefined }, PAGE);
    expect(config.pollIntervalMs).toBe(5000);
    expect(config.endpoints.token).toBe('/v1/client/sessions/{sid}/tokens');
    expect(tab.mode).toBe('auto');
    const oidc = validateManagerOptions({ oidc: { issuer: 'https://op.example.com', clientId: 'app', redirectUri: `${PAGE}/cb`, scope: undefined, dpop: undefined } }, PAGE).config.oidc;
    expect(oidc).toMatchObject({ scope: 'openid offline_access', dpop: null, resource: null });
  });
});

describe('getToken options', () => {
  it('normalise to a request with the tab leeway when the call names none', () => {
    expect(normalizeGetTokenOptions({}, 30)).toEqual({ template: null, organizationId: null, expiresInSeconds: null, skipCache: false, leewayInSeconds: 30 });
    expect(normalizeGetTokenOptions({ template: 'api', organizationId: null, expiresInSeconds: 3600, skipCache: true, leewayInSeconds: 1 }, 30))
      .toEqual({ template: 'api', organizationId: null, expiresInSeconds: 3600, skipCache: true, leewayInSeconds: 15 });
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
