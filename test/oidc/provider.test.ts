/**
 * The real OpenID provider as tabtoken's tests configure it: its discovery document, the PKCE code
 * flow, when it issues refresh tokens, CORS, revocation and RP-initiated logout — all over real HTTP.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { describe, expect, test } from 'vitest';
import { CookieJar, discover, refreshGrant, signInWithCodeFlow } from '../../dev/oidc/index.ts';
import { APP, LOGGED_OUT, provider, REDIRECT, signIn } from './support.ts';

describe('discovery', () => {
  test('the document names the proxy as issuer and lists what tabtoken relies on', async () => {
    const op = await provider();
    expect(op.issuer).toBe(op.proxy.url);
    const doc = await discover(op.issuer);
    expect(doc.issuer).toBe(op.issuer);
    for (const endpoint of [
      'authorization_endpoint',
      'token_endpoint',
      'jwks_uri',
      'revocation_endpoint',
      'introspection_endpoint',
      'end_session_endpoint',
    ] as const) {
      expect(String(doc[endpoint]).startsWith(`${op.issuer}/`), endpoint).toBe(true);
    }
    expect(doc.code_challenge_methods_supported).toEqual(['S256']);
    expect(doc.grant_types_supported).toEqual(['authorization_code', 'refresh_token']);
    expect(doc.response_types_supported).toEqual(['code']);
    expect(doc.token_endpoint_auth_methods_supported).toContain('none');
    expect(doc.scopes_supported).toEqual(['openid', 'offline_access']);
    expect(doc.id_token_signing_alg_values_supported).toEqual(['RS256']);
    expect(doc.dpop_signing_alg_values_supported).toEqual(['ES256']);
    expect(doc.authorization_response_iss_parameter_supported).toBe(true);
  });

  test('with DPoP off the document lists no DPoP algorithms', async () => {
    const op = await provider({ dpop: false });
    const doc = await discover(op.issuer);
    expect(doc).not.toHaveProperty('dpop_signing_alg_values_supported');
  });
});

describe('the authorization-code flow', () => {
  test('PKCE sign-in with openid offline_access yields a refresh token and an RS256 ID token for the nonce', async () => {
    const op = await provider({ accessTokenTtlSeconds: 20 });
    const flow = await signIn(op, { login: 'alice' });
    expect(flow.iss).toBe(op.issuer);
    expect(flow.tokens.token_type).toBe('Bearer');
    expect(flow.tokens.expires_in).toBe(20);
    expect(flow.tokens.scope).toBe('openid offline_access');
    expect(typeof flow.tokens.refresh_token).toBe('string');
    const { payload, protectedHeader } = await jwtVerify(flow.tokens.id_token ?? '', createRemoteJWKSet(new URL(flow.metadata.jwks_uri)), {
      issuer: op.issuer,
      audience: op.clientId,
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.sub).toBe('alice');
    expect(payload.nonce).toBe(flow.nonce);

    const grant = op.events.grant(flow.grantId);
    expect(grant?.accountId).toBe('alice');
    expect(grant?.refreshTokens).toEqual([flow.tokens.refresh_token]);
    expect(op.currentRefreshToken(flow.grantId)).toBe(flow.tokens.refresh_token);
  });

  test('an authorization request without a PKCE challenge is refused', async () => {
    const op = await provider();
    const doc = await discover(op.issuer);
    const url = new URL(doc.authorization_endpoint);
    url.search = new URLSearchParams({ client_id: op.clientId, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid', state: 's' }).toString();
    const res = await fetch(url, { redirect: 'manual' });
    const back = new URL(res.headers.get('location') ?? '', url);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  test('without offline_access there is no refresh token', async () => {
    const op = await provider();
    const flow = await signIn(op, { scope: 'openid' });
    expect(flow.tokens).not.toHaveProperty('refresh_token');
    expect(op.events.grant(flow.grantId)?.refreshTokens).toEqual([]);
  });

  test("the provider's own rule: offline_access needs prompt=consent, and the default set-up supplies it", async () => {
    const strict = await provider({ offlineAccessNeedsConsentPrompt: true });
    const dropped = await signIn(strict);
    expect(dropped.tokens.scope).toBe('openid');
    expect(dropped.tokens).not.toHaveProperty('refresh_token');
    const asked = await signIn(strict, { prompt: 'consent' });
    expect(typeof asked.tokens.refresh_token).toBe('string');
  });

  test('a second sign-in in the same provider session reuses the grant', async () => {
    const op = await provider();
    const jar = new CookieJar();
    const first = await signIn(op, { jar, login: 'bob' });
    const second = await signIn(op, { jar });
    expect(second.grantId).toBe(first.grantId);
    expect(second.tokens.refresh_token).not.toBe(first.tokens.refresh_token);
  });
});

describe('CORS', () => {
  test("the token endpoint answers the app's origin and refuses any other", async () => {
    const op = await provider();
    const flow = await signIn(op);
    const ok = await refreshGrant({
      tokenEndpoint: flow.metadata.token_endpoint,
      clientId: op.clientId,
      refreshToken: flow.tokens.refresh_token ?? '',
      origin: APP,
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);

    const evil = await refreshGrant({
      tokenEndpoint: flow.metadata.token_endpoint,
      clientId: op.clientId,
      refreshToken: String(ok.body.refresh_token),
      origin: 'http://127.0.0.1:6666',
    });
    expect(evil.status).toBe(400);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect(evil.body.error).toBe('invalid_request');
    // The refused request never reached the grant: the token it carried still works.
    const again = await refreshGrant({
      tokenEndpoint: flow.metadata.token_endpoint,
      clientId: op.clientId,
      refreshToken: String(ok.body.refresh_token),
      origin: APP,
    });
    expect(again.status).toBe(200);
  });

  test("the token endpoint's preflight lets the app send a DPoP header and read DPoP-Nonce", async () => {
    const op = await provider();
    const doc = await discover(op.issuer);
    const preflight = await fetch(doc.token_endpoint, {
      method: 'OPTIONS',
      headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'dpop,content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toBe('dpop,content-type');
    const flow = await signIn(op);
    const answer = await refreshGrant({ tokenEndpoint: doc.token_endpoint, clientId: op.clientId, refreshToken: flow.tokens.refresh_token ?? '', origin: APP });
    const exposed = answer.headers
      .get('access-control-expose-headers')
      ?.split(',')
      .map((h) => h.trim().toLowerCase());
    expect(exposed).toEqual(expect.arrayContaining(['dpop-nonce', 'www-authenticate']));
    // oidc-provider does not expose Date: a page cannot read the provider's clock from a token answer.
    expect(exposed).not.toContain('date');
  });

  test('discovery and JWKS are open to every origin, as oidc-provider always serves them', async () => {
    const op = await provider();
    const res = await fetch(`${op.issuer}/.well-known/openid-configuration`, { headers: { origin: 'http://127.0.0.1:6666' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:6666');
  });
});

describe('revocation and logout', () => {
  test('revoking the refresh token revokes the grant: introspection says inactive', async () => {
    const op = await provider();
    const flow = await signIn(op);
    const refreshToken = flow.tokens.refresh_token ?? '';
    expect((await op.introspect(refreshToken)).active).toBe(true);
    const res = await fetch(String(flow.metadata.revocation_endpoint), {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refreshToken, client_id: op.clientId }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect((await op.introspect(refreshToken)).active).toBe(false);
    expect((await op.introspect(flow.tokens.access_token)).active).toBe(false);
    expect(op.events.grant(flow.grantId)?.revoked?.route).toBe('revocation');
    expect(op.currentRefreshToken(flow.grantId)).toBeNull();
  });

  test('RP-initiated logout with id_token_hint returns to the registered post-logout URI', async () => {
    const op = await provider();
    const flow = await signIn(op);
    const end = new URL(String(flow.metadata.end_session_endpoint));
    end.search = new URLSearchParams({ id_token_hint: flow.tokens.id_token ?? '', post_logout_redirect_uri: LOGGED_OUT, state: 'bye' }).toString();
    const jar = flow.jar;
    const page = await fetch(end, { headers: { cookie: jar.header(end.href) ?? '' } });
    jar.store(end.href, page);
    const html = await page.text();
    const action = /action="([^"]+)"/.exec(html)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    expect(action && xsrf, html.slice(0, 300)).toBeTruthy();
    const confirmUrl = new URL(action ?? '', end).href;
    const confirm = await fetch(confirmUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(confirmUrl) ?? '', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf: xsrf ?? '', logout: 'yes' }),
    });
    const back = new URL(confirm.headers.get('location') ?? '', confirmUrl);
    expect(`${back.origin}${back.pathname}`).toBe(LOGGED_OUT);
    expect(back.searchParams.get('state')).toBe('bye');
    expect(op.events.events.some((e) => e.type === 'end_session')).toBe(true);
  });

  test('a post-logout URI that is not registered is refused', async () => {
    const op = await provider();
    const flow = await signIn(op);
    const end = new URL(String(flow.metadata.end_session_endpoint));
    end.search = new URLSearchParams({ id_token_hint: flow.tokens.id_token ?? '', post_logout_redirect_uri: 'http://127.0.0.1:6666/' }).toString();
    const res = await fetch(end, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
  });
});

test('a redirect URI that is not registered is refused', async () => {
  const op = await provider();
  await expect(signInWithCodeFlow({ issuer: op.issuer, clientId: op.clientId, redirectUri: 'http://127.0.0.1:6666/callback' })).rejects.toThrow(/400/);
});
