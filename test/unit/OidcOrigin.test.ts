/**
 * The OpenID Connect adapter's refusals (SPEC 11), on fake time against a scripted provider: every
 * bad answer is a typed error and changes nothing — no grant is stored, the state is used up.
 */
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { ConnectionError, InvalidArgumentError, OriginResponseError, TokenInvalidError } from '../../protocol/errors.ts';
import type { EngineConfig } from '../../protocol/types.ts';
import type { Grant, GrantKeeper, PendingSignIn } from '../../origins/oidc/grant.ts';
import { OidcOrigin } from '../../origins/oidc/OidcOrigin.ts';
import { engineConfig } from './support/engine.ts';
import { FakeClock } from './support/FakeClock.ts';
import { FakeLocks } from './support/FakeLocks.ts';
import { ScriptedProvider } from './support/ScriptedProvider.ts';

/** The grant store in memory (Node has no IndexedDB). */
class MemoryGrantStore implements GrantKeeper {
  grant: Grant | null = null;
  discovery: Record<string, unknown> | null = null;
  readonly signIns = new Map<string, PendingSignIn>();
  async getGrant() {
    return this.grant;
  }
  async setGrant(grant: Grant) {
    this.grant = grant;
  }
  async deleteGrant() {
    this.grant = null;
  }
  async getDiscovery() {
    return this.discovery;
  }
  async setDiscovery(d: Record<string, unknown>) {
    this.discovery = d;
  }
  async putSignIn(request: PendingSignIn) {
    this.signIns.set(request.state, request);
  }
  async takeSignIn(state: string) {
    const request = this.signIns.get(state) ?? null;
    this.signIns.delete(state);
    return request;
  }
}

function setup(o: { dpop?: boolean | null; provider?: (p: ScriptedProvider) => void } = {}) {
  const clock = new FakeClock();
  const provider = new ScriptedProvider(clock);
  o.provider?.(provider);
  const store = new MemoryGrantStore();
  const base = engineConfig();
  const config: EngineConfig = {
    ...base,
    credentials: 'omit',
    oidc: { issuer: provider.issuer, clientId: provider.clientId, redirectUri: 'https://app.test/callback', scope: 'openid offline_access', resource: null, dpop: o.dpop ?? false, postLogoutRedirectUri: 'https://app.test/bye' },
  };
  const origin = new OidcOrigin(config, { clock, fetch: provider.fetch, locks: new FakeLocks().manager, store });
  return { clock, provider, store, origin, config };
}

/** Starts a sign-in and answers the redirect URL the provider would send back. */
async function started(s: ReturnType<typeof setup>, extra: Record<string, string> = {}) {
  const url = new URL(await s.origin.beginSignIn({ prompt: null, loginHint: 'alice@example.com', returnTo: '/after?x=1' }));
  const state = url.searchParams.get('state')!;
  const answer = new URL('https://app.test/callback');
  for (const [k, v] of Object.entries({ code: 'the-code', state, iss: s.provider.issuer, ...extra })) if (v !== '') answer.searchParams.set(k, v);
  return { url, state, nonce: url.searchParams.get('nonce')!, answer: answer.href };
}

describe('OpenID Connect adapter', () => {
  it.each([
    ['oidc.scope', { scope: 'profile email' }, 'scopes separated by spaces, "openid" among them'],
    ['oidc.resource', { resource: 'not a url' }, 'an absolute URL without fragment'],
    ['oidc.resource', { resource: 'https://api.example.com/#x' }, 'an absolute URL without fragment'],
    ['oidc.dpop', { dpop: 'yes' }, 'true or false'],
  ])('refuses a bad %s when the engine starts (the tab leaves it to the adapter), naming what it must be', (_, bad, expected) => {
    const s = setup();
    const config = { ...engineConfig(), credentials: 'omit' as const, oidc: { ...s.config.oidc!, ...bad } as EngineConfig['oidc'] };
    expect(() => new OidcOrigin(config, { clock: s.clock, fetch: s.provider.fetch, locks: new FakeLocks().manager, store: s.store })).toThrow(InvalidArgumentError);
    expect(() => new OidcOrigin(config, { clock: s.clock, fetch: s.provider.fetch, locks: new FakeLocks().manager, store: s.store })).toThrow(`${_} must be ${expected}; got `);
    expect(s.provider.calls).toHaveLength(0);
  });

  it('refuses to start without Web Locks (outside a secure context) with ConnectionError', () => {
    const s = setup();
    expect(() => new OidcOrigin(s.config, { clock: s.clock, fetch: s.provider.fetch, locks: undefined, store: s.store })).toThrow(ConnectionError);
  });

  it('makes an authorization request with PKCE S256, state, nonce and the options, and redeems its answer into a grant', async () => {
    const s = setup();
    await s.origin.ready;
    const { url, nonce, answer } = await started(s);
    expect(`${url.origin}${url.pathname}`).toBe(`${s.provider.issuer}/auth`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ response_type: 'code', client_id: 'app', redirect_uri: 'https://app.test/callback', scope: 'openid offline_access', code_challenge_method: 'S256', login_hint: 'alice@example.com' });
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    s.provider.queue.push(() => s.provider.answer({ nonce, refreshToken: 'rt-1' }));
    const result = await s.origin.completeSignIn(answer);
    expect(result).toMatchObject({ userId: 'alice', returnTo: '/after?x=1' });
    expect(result.sessionId).toMatch(/^oidc_[0-9a-f]{32}$/);
    const call = s.provider.calls[0]!;
    expect(Object.fromEntries(call.form)).toMatchObject({ grant_type: 'authorization_code', code: 'the-code', redirect_uri: 'https://app.test/callback', client_id: 'app' });
    expect(call.form.get('code_verifier')).toMatch(/^[\w-]{43}$/);
    expect(s.store.grant).toMatchObject({ sessionId: result.sessionId, sub: 'alice', refreshToken: 'rt-1' });
    expect(await s.origin.readSessions()).toMatchObject({ lastActiveSessionId: result.sessionId });
  });

  it.each([
    ['a reused state', async (s: ReturnType<typeof setup>) => {
      const { nonce, answer } = await started(s);
      s.provider.queue.push(() => s.provider.answer({ nonce }));
      await s.origin.completeSignIn(answer);
      s.store.grant = null;
      return answer;
    }, TokenInvalidError],
    ['a state nobody started', async (s: ReturnType<typeof setup>) => (await started(s, { state: 'forged' })).answer, TokenInvalidError],
    ['an expired state', async (s: ReturnType<typeof setup>) => {
      const { answer } = await started(s);
      await s.clock.advance(10 * 60_000 + 1);
      return answer;
    }, TokenInvalidError],
    ['another issuer', async (s: ReturnType<typeof setup>) => (await started(s, { iss: 'https://evil.test' })).answer, TokenInvalidError],
    ['no issuer where the provider names it', async (s: ReturnType<typeof setup>) => (await started(s, { iss: '' })).answer, TokenInvalidError],
    ['an error answer', async (s: ReturnType<typeof setup>) => (await started(s, { code: '', error: 'access_denied', error_description: 'the user said no' })).answer, OriginResponseError],
    ['an ID token signed with another key', async (s: ReturnType<typeof setup>) => {
      const { nonce, answer } = await started(s);
      s.provider.queue.push(async () => s.provider.answer({ idToken: await s.provider.idToken({ nonce }, { otherKey: true }) }));
      return answer;
    }, TokenInvalidError],
    ['an ID token for another audience', async (s: ReturnType<typeof setup>) => {
      const { nonce, answer } = await started(s);
      s.provider.queue.push(async () => s.provider.answer({ idToken: await s.provider.idToken({ nonce, aud: 'another-app' }) }));
      return answer;
    }, TokenInvalidError],
    ['an ID token with the wrong nonce', async (s: ReturnType<typeof setup>) => {
      const { answer } = await started(s);
      s.provider.queue.push(() => s.provider.answer({ nonce: 'not-the-one' }));
      return answer;
    }, TokenInvalidError],
    ['an expired ID token', async (s: ReturnType<typeof setup>) => {
      const { nonce, answer } = await started(s);
      s.provider.queue.push(async () => s.provider.answer({ idToken: await s.provider.idToken({ nonce, iat: s.provider.nowS() - 600, exp: s.provider.nowS() - 1 }) }));
      return answer;
    }, TokenInvalidError],
    ['an opaque access token without expires_in', async (s: ReturnType<typeof setup>) => {
      const { nonce, answer } = await started(s);
      s.provider.queue.push(() => s.provider.answer({ nonce, expiresIn: null }));
      return answer;
    }, TokenInvalidError],
    ['a token answer that is not JSON', async (s: ReturnType<typeof setup>) => {
      const { answer } = await started(s);
      s.provider.queue.push(() => new Response('<html>gateway</html>', { status: 200 }));
      return answer;
    }, TokenInvalidError],
    ['a huge token answer', async (s: ReturnType<typeof setup>) => {
      const { answer } = await started(s);
      s.provider.queue.push(() => new Response('x'.repeat(2 * 1024 * 1024), { status: 200 }));
      return answer;
    }, TokenInvalidError],
  ])('refuses %s with its typed error, and keeps no grant', async (_name, prepare, type) => {
    const s = setup();
    await s.origin.ready;
    const answer = await prepare(s);
    const error = await s.origin.completeSignIn(answer).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect(s.store.grant).toBeNull();
    expect((await s.origin.readSessions()).sessions.size).toBe(0);
  });

  it('an error answer carries the provider\'s error code', async () => {
    const s = setup();
    const { answer } = await started(s, { code: '', error: 'access_denied' });
    await expect(s.origin.completeSignIn(answer)).rejects.toMatchObject({ code: 'origin_response', errors: [{ code: 'access_denied' }] });
  });

  it('a URL that is not the redirect page, or carries neither code nor error, is an InvalidArgumentError', async () => {
    const s = setup();
    await expect(s.origin.completeSignIn('https://evil.test/callback?code=x&state=y')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(s.origin.completeSignIn('https://app.test/callback?foo=1')).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('refreshes rotate: the new refresh token is stored before the token is returned, and invalid_grant drops the grant', async () => {
    const s = setup();
    const { nonce, answer } = await started(s);
    s.provider.queue.push(() => s.provider.answer({ nonce, refreshToken: 'rt-1' }));
    const { sessionId } = await s.origin.completeSignIn(answer);
    s.provider.queue.push(() => s.provider.answer({ refreshToken: 'rt-2', idToken: null }));
    const minted = await s.origin.mint(sessionId, { template: null, organizationId: null, expiresInSeconds: null }, null);
    expect(s.provider.calls.at(-1)?.form.get('refresh_token')).toBe('rt-1');
    expect(s.store.grant?.refreshToken).toBe('rt-2');
    expect(minted.expiresAt).toBe(s.clock.now() + 60_000);
    // A refreshed ID token for another subject is refused.
    s.provider.queue.push(async () => s.provider.answer({ refreshToken: 'rt-3', idToken: await s.provider.idToken({ sub: 'mallory' }) }));
    await expect(s.origin.mint(sessionId, { template: null, organizationId: null, expiresInSeconds: null }, null)).rejects.toBeInstanceOf(TokenInvalidError);
    expect(s.store.grant?.refreshToken).toBe('rt-2');
    s.provider.queue.push(() => s.provider.json(400, { error: 'invalid_grant', error_description: 'grant request is invalid' }));
    const error = await s.origin.mint(sessionId, { template: null, organizationId: null, expiresInSeconds: null }, null).catch((e: unknown) => e);
    expect(s.origin.classify(error)).toBe('signout');
    expect(s.store.grant).toBeNull();
  });

  it('classifies what a refresh meets: invalid_grant signs out, 5xx, 429 and the network are an outage, other errors are errors', () => {
    const { origin } = setup();
    expect(origin.classify(new OriginResponseError(400, [{ code: 'invalid_grant' }]))).toBe('signout');
    expect(origin.classify(new OriginResponseError(503, []))).toBe('outage');
    expect(origin.classify(new OriginResponseError(429, [{ code: 'slow_down' }]))).toBe('outage');
    expect(origin.classify(new OriginResponseError(401, [{ code: 'invalid_client' }]))).toBe('error');
    expect(origin.classify(new OriginResponseError(400, [{ code: 'invalid_scope' }]))).toBe('error');
  });

  it('a discovery document that names another issuer is refused, and dpop: true against a provider without it rejects ready', async () => {
    const a = setup();
    a.provider.discovery = { ...a.provider.discovery, issuer: 'https://op.test/' };
    await expect(a.origin.beginSignIn({ prompt: null, loginHint: null, returnTo: '/' })).rejects.toBeInstanceOf(InvalidArgumentError);
    const b = setup({ dpop: true });
    await expect(b.origin.ready).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('a client clock an hour ahead: ID tokens are checked and DPoP proofs dated on the provider\'s clock, from its Date header', async () => {
    const skewed = (p: ScriptedProvider) => {
      p.skewMs = -3_600_000;
      p.discovery = { ...p.discovery, dpop_signing_alg_values_supported: ['ES256'] };
    };
    const s = setup({ dpop: true, provider: skewed });
    await s.origin.ready;
    const { nonce, answer } = await started(s);
    // The ID token expires in 5 minutes on the provider's clock: an hour ago on this one.
    s.provider.queue.push(() => s.provider.answer({ nonce, refreshToken: 'rt-1', tokenType: 'DPoP' }));
    const { sessionId } = await s.origin.completeSignIn(answer);
    const proof = decodeJwt(s.provider.calls[0]!.dpop!);
    expect(Math.abs((proof.iat ?? 0) - s.provider.nowS())).toBeLessThanOrEqual(2);
    const resourceProof = decodeJwt(await s.origin.proof(sessionId, { htm: 'GET', htu: 'https://api.test/me', nonce: null, token: 'at' }));
    expect(Math.abs((resourceProof.iat ?? 0) - s.provider.nowS())).toBeLessThanOrEqual(2);

    // A provider whose CORS hides Date leaves only the local clock: the same ID token looks expired.
    const hidden = setup({ provider: (p) => {
      p.skewMs = -3_600_000;
      p.sendDate = false;
    } });
    const refused = await started(hidden);
    hidden.provider.queue.push(() => hidden.provider.answer({ nonce: refused.nonce }));
    await expect(hidden.origin.completeSignIn(refused.answer)).rejects.toBeInstanceOf(TokenInvalidError);
  });

  it('sign-out revokes the refresh token and names the provider\'s logout with the ID token as a hint', async () => {
    const s = setup();
    const { nonce, answer } = await started(s);
    s.provider.queue.push(() => s.provider.answer({ nonce, refreshToken: 'rt-1' }));
    const { sessionId } = await s.origin.completeSignIn(answer);
    const redirect = new URL((await s.origin.signOutRedirect(sessionId))!);
    expect(`${redirect.origin}${redirect.pathname}`).toBe(`${s.provider.issuer}/logout`);
    expect(redirect.searchParams.get('id_token_hint')).toBe(s.store.grant?.idToken);
    expect(redirect.searchParams.get('post_logout_redirect_uri')).toBe('https://app.test/bye');
    await s.origin.endSession(sessionId);
    expect(s.provider.revoked).toEqual(['rt-1']);
    expect(s.store.grant).toBeNull();
  });
});
