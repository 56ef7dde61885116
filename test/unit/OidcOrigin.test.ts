/**
 * The OpenID Connect adapter (SPEC 11), on fake time against a scripted provider: every bad answer
 * is a typed error and changes nothing — no grant is stored, the state is used up; a refresh keeps
 * its rotated refresh token whatever fails after it; discovery documents are checked and renewed.
 */
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectionError, InvalidArgumentError, OriginResponseError, OriginUnavailableError, TokenInvalidError } from '../../protocol/errors.ts';
import type { EngineConfig } from '../../protocol/types.ts';
import type { Grant, GrantKeeper, PendingSignIn, StoredDiscovery } from '../../origins/oidc/grant.ts';
import { OidcOrigin } from '../../origins/oidc/OidcOrigin.ts';
import * as actions from '../../client/managerActions.ts';
import type { ManagerCore } from '../../client/managerActions.ts';
import { engineConfig } from './support/engine.ts';
import { FakeClock } from './support/FakeClock.ts';
import { FakeLocks } from './support/FakeLocks.ts';
import { ScriptedProvider } from './support/ScriptedProvider.ts';

/** The grant store in memory (Node has no IndexedDB). */
class MemoryGrantStore implements GrantKeeper {
  grant: Grant | null = null;
  discovery: StoredDiscovery | null = null;
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
  async setDiscovery(d: StoredDiscovery) {
    this.discovery = d;
  }
  async deleteDiscovery() {
    this.discovery = null;
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
    oidc: {
      issuer: provider.issuer,
      clientId: provider.clientId,
      redirectUri: 'https://app.test/callback',
      scope: 'openid offline_access',
      resource: null,
      dpop: o.dpop ?? false,
      postLogoutRedirectUri: 'https://app.test/bye',
    },
  };
  const origin = new OidcOrigin(config, { clock, fetch: provider.fetch, locks: new FakeLocks().manager, store });
  /** A new adapter on the same stored grant (a worker restart): nothing in memory, no JWKS loaded. */
  const restart = () => new OidcOrigin(config, { clock, fetch: provider.fetch, locks: new FakeLocks().manager, store });
  return { clock, provider, store, origin, config, restart };
}

const DEFAULT = { template: null, organizationId: null, expiresInSeconds: null };

/** A completed sign-in; `idToken` claims override the first ID token's. */
async function signedIn(s: ReturnType<typeof setup>, o: { idToken?: Record<string, unknown>; tokenType?: string } = {}) {
  const { nonce, answer } = await started(s);
  s.provider.queue.push(async () =>
    s.provider.answer({ refreshToken: 'rt-1', idToken: await s.provider.idToken({ nonce, ...o.idToken }), ...(o.tokenType ? { tokenType: o.tokenType } : {}) }),
  );
  return s.origin.completeSignIn(answer);
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
    expect(() => new OidcOrigin(config, { clock: s.clock, fetch: s.provider.fetch, locks: new FakeLocks().manager, store: s.store })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new OidcOrigin(config, { clock: s.clock, fetch: s.provider.fetch, locks: new FakeLocks().manager, store: s.store })).toThrow(
      `${_} must be ${expected}; got `,
    );
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
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'app',
      redirect_uri: 'https://app.test/callback',
      scope: 'openid offline_access',
      code_challenge_method: 'S256',
      login_hint: 'alice@example.com',
    });
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    s.provider.queue.push(() => s.provider.answer({ nonce, refreshToken: 'rt-1' }));
    const result = await s.origin.completeSignIn(answer);
    expect(result).toMatchObject({ userId: 'alice', returnTo: '/after?x=1' });
    expect(result.sessionId).toMatch(/^oidc_[0-9a-f]{32}$/);
    const call = s.provider.calls[0]!;
    expect(Object.fromEntries(call.form)).toMatchObject({
      grant_type: 'authorization_code',
      code: 'the-code',
      redirect_uri: 'https://app.test/callback',
      client_id: 'app',
    });
    expect(call.form.get('code_verifier')).toMatch(/^[\w-]{43}$/);
    expect(s.store.grant).toMatchObject({ sessionId: result.sessionId, sub: 'alice', refreshToken: 'rt-1' });
    expect(await s.origin.readSessions()).toMatchObject({ lastActiveSessionId: result.sessionId });
  });

  it.each([
    [
      'a reused state',
      async (s: ReturnType<typeof setup>) => {
        const { nonce, answer } = await started(s);
        s.provider.queue.push(() => s.provider.answer({ nonce }));
        await s.origin.completeSignIn(answer);
        s.store.grant = null;
        return answer;
      },
      TokenInvalidError,
    ],
    ['a state nobody started', async (s: ReturnType<typeof setup>) => (await started(s, { state: 'forged' })).answer, TokenInvalidError],
    [
      'an expired state',
      async (s: ReturnType<typeof setup>) => {
        const { answer } = await started(s);
        await s.clock.advance(10 * 60_000 + 1);
        return answer;
      },
      TokenInvalidError,
    ],
    ['another issuer', async (s: ReturnType<typeof setup>) => (await started(s, { iss: 'https://evil.test' })).answer, TokenInvalidError],
    ['no issuer where the provider names it', async (s: ReturnType<typeof setup>) => (await started(s, { iss: '' })).answer, TokenInvalidError],
    [
      'an error answer',
      async (s: ReturnType<typeof setup>) => (await started(s, { code: '', error: 'access_denied', error_description: 'the user said no' })).answer,
      OriginResponseError,
    ],
    [
      'an ID token signed with another key',
      async (s: ReturnType<typeof setup>) => {
        const { nonce, answer } = await started(s);
        s.provider.queue.push(async () => s.provider.answer({ idToken: await s.provider.idToken({ nonce }, { otherKey: true }) }));
        return answer;
      },
      TokenInvalidError,
    ],
    [
      'an ID token for another audience',
      async (s: ReturnType<typeof setup>) => {
        const { nonce, answer } = await started(s);
        s.provider.queue.push(async () => s.provider.answer({ idToken: await s.provider.idToken({ nonce, aud: 'another-app' }) }));
        return answer;
      },
      TokenInvalidError,
    ],
    [
      'an ID token with the wrong nonce',
      async (s: ReturnType<typeof setup>) => {
        const { answer } = await started(s);
        s.provider.queue.push(() => s.provider.answer({ nonce: 'not-the-one' }));
        return answer;
      },
      TokenInvalidError,
    ],
    [
      'an expired ID token',
      async (s: ReturnType<typeof setup>) => {
        const { nonce, answer } = await started(s);
        s.provider.queue.push(async () =>
          s.provider.answer({ idToken: await s.provider.idToken({ nonce, iat: s.provider.nowS() - 600, exp: s.provider.nowS() - 1 }) }),
        );
        return answer;
      },
      TokenInvalidError,
    ],
    [
      'an ID token signed with HS256 (an HMAC key in the JWKS, HS256 not listed)',
      async (s: ReturnType<typeof setup>) => {
        const { nonce, answer } = await started(s);
        s.provider.queue.push(async () => s.provider.answer({ idToken: await s.provider.idToken({ nonce }, { hmac: true }) }));
        return answer;
      },
      TokenInvalidError,
    ],
    [
      'an ID token signed with HS256 where the provider lists only HS256',
      async (s: ReturnType<typeof setup>) => {
        s.provider.discovery = { ...s.provider.discovery, id_token_signing_alg_values_supported: ['HS256'] };
        const { nonce, answer } = await started(s);
        s.provider.queue.push(async () => s.provider.answer({ idToken: await s.provider.idToken({ nonce }, { hmac: true }) }));
        return answer;
      },
      TokenInvalidError,
    ],
    [
      'an ID token signed with an algorithm the provider does not list (ES256 where it lists RS256)',
      async (s: ReturnType<typeof setup>) => {
        s.provider.discovery = { ...s.provider.discovery, id_token_signing_alg_values_supported: ['RS256'] };
        const { nonce, answer } = await started(s);
        s.provider.queue.push(() => s.provider.answer({ nonce }));
        return answer;
      },
      TokenInvalidError,
    ],
    [
      'an ID token signed with ES256 from a provider that lists no algorithm (the default is RS256)',
      async (s: ReturnType<typeof setup>) => {
        const { id_token_signing_alg_values_supported: _, ...rest } = s.provider.discovery;
        s.provider.discovery = rest;
        const { nonce, answer } = await started(s);
        s.provider.queue.push(() => s.provider.answer({ nonce }));
        return answer;
      },
      TokenInvalidError,
    ],
    [
      'an ID token without exp',
      async (s: ReturnType<typeof setup>) => {
        const { nonce, answer } = await started(s);
        s.provider.queue.push(async () => s.provider.answer({ idToken: await s.provider.idToken({ nonce, exp: undefined }) }));
        return answer;
      },
      TokenInvalidError,
    ],
    [
      'an ID token without iat',
      async (s: ReturnType<typeof setup>) => {
        const { nonce, answer } = await started(s);
        s.provider.queue.push(async () => s.provider.answer({ idToken: await s.provider.idToken({ nonce, iat: undefined }) }));
        return answer;
      },
      TokenInvalidError,
    ],
    [
      'an ID token issued to another authorized party (azp)',
      async (s: ReturnType<typeof setup>) => {
        const { nonce, answer } = await started(s);
        s.provider.queue.push(async () => s.provider.answer({ idToken: await s.provider.idToken({ nonce, azp: 'another-app' }) }));
        return answer;
      },
      TokenInvalidError,
    ],
    [
      'an ID token for several audiences that names no azp',
      async (s: ReturnType<typeof setup>) => {
        const { nonce, answer } = await started(s);
        s.provider.queue.push(async () => s.provider.answer({ idToken: await s.provider.idToken({ nonce, aud: ['app', 'api'] }) }));
        return answer;
      },
      TokenInvalidError,
    ],
    [
      'an opaque access token without expires_in',
      async (s: ReturnType<typeof setup>) => {
        const { nonce, answer } = await started(s);
        s.provider.queue.push(() => s.provider.answer({ nonce, expiresIn: null }));
        return answer;
      },
      TokenInvalidError,
    ],
    [
      'a token answer that is not JSON',
      async (s: ReturnType<typeof setup>) => {
        const { answer } = await started(s);
        s.provider.queue.push(() => new Response('<html>gateway</html>', { status: 200 }));
        return answer;
      },
      TokenInvalidError,
    ],
    [
      'a huge token answer',
      async (s: ReturnType<typeof setup>) => {
        const { answer } = await started(s);
        s.provider.queue.push(() => new Response('x'.repeat(2 * 1024 * 1024), { status: 200 }));
        return answer;
      },
      TokenInvalidError,
    ],
  ])('refuses %s with its typed error, and keeps no grant', async (_name, prepare, type) => {
    const s = setup();
    await s.origin.ready;
    const answer = await prepare(s);
    const error = await s.origin.completeSignIn(answer).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect(s.store.grant).toBeNull();
    expect((await s.origin.readSessions()).sessions.size).toBe(0);
  });

  it("an error answer carries the provider's error code", async () => {
    const s = setup();
    const { answer } = await started(s, { code: '', error: 'access_denied' });
    await expect(s.origin.completeSignIn(answer)).rejects.toMatchObject({ code: 'origin_response', errors: [{ code: 'access_denied' }] });
  });

  it('a URL that is not the redirect page, or carries neither code nor error, is an InvalidArgumentError', async () => {
    const s = setup();
    await expect(s.origin.completeSignIn('https://evil.test/callback?code=x&state=y')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(s.origin.completeSignIn('https://app.test/callback?foo=1')).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('an ID token for several audiences with azp equal to the client id is accepted', async () => {
    const s = setup();
    const result = await signedIn(s, { idToken: { aud: ['app', 'api'], azp: 'app' } });
    expect(result.token.claims).toMatchObject({ aud: ['app', 'api'], azp: 'app' });
  });

  it('refreshes rotate: the new refresh token is stored before the token is returned, and invalid_grant drops the grant and its discovery document', async () => {
    const s = setup();
    const { sessionId } = await signedIn(s);
    s.provider.queue.push(() => s.provider.answer({ refreshToken: 'rt-2', idToken: null }));
    const minted = await s.origin.mint(sessionId, DEFAULT, null);
    expect(s.provider.calls.at(-1)?.form.get('refresh_token')).toBe('rt-1');
    expect(s.store.grant?.refreshToken).toBe('rt-2');
    expect(minted.expiresAt).toBe(s.clock.now() + 60_000);
    expect(s.store.discovery).not.toBeNull();
    s.provider.queue.push(() => s.provider.json(400, { error: 'invalid_grant', error_description: 'grant request is invalid' }));
    const error = await s.origin.mint(sessionId, DEFAULT, null).catch((e: unknown) => e);
    expect(s.origin.classify(error)).toBe('signout');
    expect(s.store.grant).toBeNull();
    expect(s.store.discovery).toBeNull();
  });

  it('classifies what a refresh meets: invalid_grant signs out, 5xx, 429 and the network are an outage, other errors are errors', () => {
    const { origin } = setup();
    expect(origin.classify(new OriginResponseError(400, [{ code: 'invalid_grant' }]))).toBe('signout');
    expect(origin.classify(new OriginResponseError(503, []))).toBe('outage');
    expect(origin.classify(new OriginResponseError(429, [{ code: 'slow_down' }]))).toBe('outage');
    expect(origin.classify(new OriginResponseError(401, [{ code: 'invalid_client' }]))).toBe('error');
    expect(origin.classify(new OriginResponseError(400, [{ code: 'invalid_scope' }]))).toBe('error');
  });

  it('a discovery document that names another issuer is refused as TokenInvalidError, and dpop: true against a provider without it rejects ready', async () => {
    const a = setup();
    a.provider.discovery = { ...a.provider.discovery, issuer: 'https://op.test/' };
    await expect(a.origin.beginSignIn({ prompt: null, loginHint: null, returnTo: '/' })).rejects.toThrow(TokenInvalidError);
    await expect(a.origin.beginSignIn({ prompt: null, loginHint: null, returnTo: '/' })).rejects.toThrow(/byte for byte/);
    expect(a.store.discovery).toBeNull();
    const b = setup({ dpop: true });
    await expect(b.origin.ready).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("a client clock an hour ahead: ID tokens are checked and DPoP proofs dated on the provider's clock, from its Date header", async () => {
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
    const hidden = setup({
      provider: (p) => {
        p.skewMs = -3_600_000;
        p.sendDate = false;
      },
    });
    const refused = await started(hidden);
    hidden.provider.queue.push(() => hidden.provider.answer({ nonce: refused.nonce }));
    await expect(hidden.origin.completeSignIn(refused.answer)).rejects.toBeInstanceOf(TokenInvalidError);
  });

  it("sign-out revokes the refresh token and names the provider's logout with the ID token as a hint", async () => {
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

/** `returnTo` forms a URL parser turns into another host, and forms that stay paths (SPEC 11). */
const REFUSED_RETURN_TO = [
  '//evil.com',
  '/\\evil.com',
  '/\t/evil.com',
  '/\n/evil.com',
  '/\r\\evil.com',
  '\t//evil.com',
  'https://evil.com/',
  'javascript:alert(1)',
];
const KEPT_RETURN_TO: [string, string][] = [
  ['/%09/evil.com', '/%09/evil.com'],
  ['/a?b=1#c', '/a?b=1#c'],
  ['/', '/'],
  ['https://app.test/orders?x=1#top', '/orders?x=1#top'],
];

describe('signIn returnTo, resolved with the URL parser', () => {
  describe("in the adapter (the page's origin is the redirectUri's)", () => {
    it.each(REFUSED_RETURN_TO)('refuses %j: it resolves to another origin', async (returnTo) => {
      const s = setup();
      await expect(s.origin.beginSignIn({ prompt: null, loginHint: null, returnTo })).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(s.store.signIns.size).toBe(0);
    });

    it.each(KEPT_RETURN_TO)('keeps %j as the path %j, and hands it back after the sign-in', async (returnTo, path) => {
      const s = setup();
      const url = new URL(await s.origin.beginSignIn({ prompt: null, loginHint: null, returnTo }));
      expect([...s.store.signIns.values()].map((r) => r.returnTo)).toEqual([path]);
      const answer = `https://app.test/callback?code=c&state=${url.searchParams.get('state')}&iss=${encodeURIComponent(s.provider.issuer)}`;
      s.provider.queue.push(() => s.provider.answer({ nonce: url.searchParams.get('nonce')! }));
      expect((await s.origin.completeSignIn(answer)).returnTo).toBe(path);
    });
  });

  describe('in the tab (client/managerActions.ts)', () => {
    afterEach(() => vi.unstubAllGlobals());

    function tab(answer: unknown = 'https://op.test/auth?state=x') {
      const assign = vi.fn();
      vi.stubGlobal('location', { origin: 'https://app.test', href: 'https://app.test/here?q=1', pathname: '/here', search: '?q=1', hash: '', assign });
      const call = vi.fn(async (_op: string, _arg: unknown) => answer);
      // A mirror that already shows whatever version the worker answers with.
      const mirror = { snapshot: { version: Number.MAX_SAFE_INTEGER }, subscribe: () => () => {}, resync: () => {} };
      const m = { config: { oidc: {} }, call, mirror } as unknown as ManagerCore;
      return { m, call, assign };
    }

    it.each(REFUSED_RETURN_TO)('refuses %j before asking the worker', async (returnTo) => {
      const { m, call, assign } = tab();
      await expect(actions.signIn(m, { returnTo })).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(call).not.toHaveBeenCalled();
      expect(assign).not.toHaveBeenCalled();
    });

    it.each(KEPT_RETURN_TO)('sends %j as the path %j', async (returnTo, path) => {
      const { m, call, assign } = tab();
      await actions.signIn(m, { returnTo });
      expect(call).toHaveBeenCalledWith('signIn', { prompt: null, loginHint: null, returnTo: path });
      expect(assign).toHaveBeenCalledWith('https://op.test/auth?state=x');
    });

    it('without returnTo sends the current path, search and hash', async () => {
      const { m, call } = tab();
      await actions.signIn(m, {});
      expect(call).toHaveBeenCalledWith('signIn', { prompt: null, loginHint: null, returnTo: '/here?q=1' });
    });

    it('navigates only to an http(s) URL: a javascript: authorization URL is refused, a javascript: logout URL is not followed', async () => {
      const signingIn = tab('javascript:alert(document.cookie)');
      await expect(actions.signIn(signingIn.m, {})).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(signingIn.assign).not.toHaveBeenCalled();
      vi.unstubAllGlobals();
      const signingOut = tab({ version: 3, redirect: 'javascript:alert(document.cookie)' });
      await expect(actions.signOut(signingOut.m)).resolves.toBeUndefined();
      expect(signingOut.assign).not.toHaveBeenCalled();
      vi.unstubAllGlobals();
      const fine = tab({ version: 3, redirect: 'https://op.test/logout?id_token_hint=x' });
      await actions.signOut(fine.m);
      expect(fine.assign).toHaveBeenCalledWith('https://op.test/logout?id_token_hint=x');
    });
  });
});

describe('the discovery document', () => {
  it.each([
    ['a javascript: end_session_endpoint', { end_session_endpoint: 'javascript:alert(document.cookie)' }],
    ['a javascript: authorization_endpoint', { authorization_endpoint: 'javascript:alert(1)//' }],
    ['a plain-http token_endpoint on another host', { token_endpoint: 'http://op.test/token' }],
    ['a plain-http revocation_endpoint on a private address', { revocation_endpoint: 'http://10.0.0.1/revoke' }],
    ['a plain-http jwks_uri on a name that only starts like a loopback address', { jwks_uri: 'http://127.0.0.1.evil.com/jwks' }],
    ['a data: jwks_uri', { jwks_uri: 'data:application/json,{"keys":[]}' }],
    ['a relative authorization_endpoint', { authorization_endpoint: '/auth' }],
  ])('with %s is refused as TokenInvalidError and not kept', async (_, change) => {
    const s = setup();
    s.provider.discovery = { ...s.provider.discovery, ...change };
    await expect(s.origin.beginSignIn({ prompt: null, loginHint: null, returnTo: '/' })).rejects.toBeInstanceOf(TokenInvalidError);
    expect(s.store.discovery).toBeNull();
  });

  it('accepts http endpoints on loopback hosts (localhost, *.localhost, 127.x, [::1])', async () => {
    const s = setup();
    s.provider.discovery = {
      ...s.provider.discovery,
      authorization_endpoint: 'http://localhost:4000/auth',
      token_endpoint: 'http://127.0.0.2:4000/token',
      jwks_uri: 'http://id.localhost/jwks',
      end_session_endpoint: 'http://[::1]:4000/logout',
    };
    const url = new URL(await s.origin.beginSignIn({ prompt: null, loginHint: null, returnTo: '/' }));
    expect(url.origin).toBe('http://localhost:4000');
  });

  it('is fetched again at every signIn()', async () => {
    const s = setup();
    await s.origin.beginSignIn({ prompt: null, loginHint: null, returnTo: '/' });
    s.provider.discovery = { ...s.provider.discovery, authorization_endpoint: 'https://login.op.test/authorize' };
    const url = new URL(await s.origin.beginSignIn({ prompt: null, loginHint: null, returnTo: '/' }));
    expect(s.provider.discoveryRequests).toBe(2);
    expect(`${url.origin}${url.pathname}`).toBe('https://login.op.test/authorize');
  });

  it('older than 24 hours is fetched again at the next refresh, and kept while the provider cannot be reached', async () => {
    const s = setup();
    const { sessionId } = await signedIn(s);
    const fetchedAt = s.store.discovery!.fetchedAt;
    const requests = s.provider.discoveryRequests;
    // A refresh within the day uses the document in hand.
    s.provider.queue.push(() => s.provider.answer({ refreshToken: 'rt-2' }));
    await s.origin.mint(sessionId, DEFAULT, null);
    expect(s.provider.discoveryRequests).toBe(requests);

    s.clock.set(s.clock.now() + 25 * 3_600_000);
    s.provider.discoveryDown = true;
    s.provider.queue.push(() => s.provider.answer({ refreshToken: 'rt-3' }));
    await expect(s.origin.mint(sessionId, DEFAULT, null)).resolves.toMatchObject({ claims: { sub: 'alice' } });
    expect(s.provider.discoveryRequests).toBe(requests + 1);
    expect(s.store.discovery?.fetchedAt).toBe(fetchedAt);
    expect(s.provider.calls.at(-1)?.url).toBe(`${s.provider.issuer}/token`);

    s.provider.discoveryDown = false;
    s.provider.discovery = { ...s.provider.discovery, token_endpoint: 'https://tokens.op.test/token' };
    s.provider.queue.push(() => s.provider.answer({ refreshToken: 'rt-4' }));
    await s.origin.mint(sessionId, DEFAULT, null);
    expect(s.provider.discoveryRequests).toBe(requests + 2);
    expect(s.provider.calls.at(-1)?.url).toBe('https://tokens.op.test/token');
    expect(s.store.discovery?.fetchedAt).toBe(s.clock.now());
  });

  it('stored 25 hours ago, is fetched again at the first refresh after a restart', async () => {
    const s = setup();
    const { sessionId } = await signedIn(s);
    s.clock.set(s.clock.now() + 25 * 3_600_000);
    const again = s.restart();
    await again.ready;
    const requests = s.provider.discoveryRequests;
    s.provider.queue.push(() => s.provider.answer({ refreshToken: 'rt-2' }));
    await again.mint(sessionId, DEFAULT, null);
    expect(s.provider.discoveryRequests).toBe(requests + 1);
  });

  it('a refreshed document that fails its checks is not used: the refresh fails with TokenInvalidError, the old one stays', async () => {
    const s = setup();
    const { sessionId } = await signedIn(s);
    const stored = s.store.discovery;
    s.clock.set(s.clock.now() + 25 * 3_600_000);
    s.provider.discovery = { ...s.provider.discovery, token_endpoint: 'http://attacker.test/token' };
    await expect(s.origin.mint(sessionId, DEFAULT, null)).rejects.toBeInstanceOf(TokenInvalidError);
    expect(s.provider.calls.filter((c) => c.url.startsWith('http://attacker.test'))).toEqual([]);
    expect(s.store.discovery).toBe(stored);
    expect(s.store.grant?.refreshToken).toBe('rt-1');
  });

  it('goes with the grant at sign-out and at forget; the next sign-in fetches it again', async () => {
    const s = setup();
    const { sessionId } = await signedIn(s);
    expect(s.store.discovery).not.toBeNull();
    await s.origin.endSession(sessionId);
    expect(s.provider.revoked).toEqual(['rt-1']);
    expect(s.store.discovery).toBeNull();
    const requests = s.provider.discoveryRequests;
    const again = await signedIn(s);
    expect(s.provider.discoveryRequests).toBe(requests + 1);
    await s.origin.forget(again.sessionId);
    expect(s.store.discovery).toBeNull();
  });
});

describe('rotation durability: a rotated refresh token is never lost', () => {
  it.each([
    ['another subject', { sub: 'mallory' }],
    ["no azp where the sign-in's had one", { azp: undefined }],
    ['another auth_time', { auth_time: 1_900_000_000 }],
    ['another audience', { aud: ['app', 'api'], azp: 'app' }],
    ['another authorized party', { azp: 'another-app' }],
    ['no exp', { exp: undefined }],
  ])('a refreshed ID token with %s is dropped and reported; its refresh token is stored, its access token served, the grant carries on', async (_, change) => {
    const s = setup();
    const signIn = await signedIn(s, { idToken: { azp: 'app', auth_time: 1_800_000_000 } });
    const claims = s.store.grant!.claims;
    s.provider.queue.push(async () =>
      s.provider.answer({ refreshToken: 'rt-2', accessToken: 'at-2', idToken: await s.provider.idToken({ azp: 'app', auth_time: 1_800_000_000, ...change }) }),
    );
    const minted = await s.origin.mint(signIn.sessionId, DEFAULT, null);
    expect(minted).toMatchObject({ jwt: 'at-2', claims });
    expect(s.store.grant).toMatchObject({ refreshToken: 'rt-2', claims, access: { token: 'at-2' } });
    // Reported with the answer: the engine puts it on the `error` event (no caller receives it).
    expect(minted.warning).toBeInstanceOf(TokenInvalidError);
    // The next refresh presents the stored token, and a good ID token is taken.
    s.provider.queue.push(async () =>
      s.provider.answer({ refreshToken: 'rt-3', idToken: await s.provider.idToken({ azp: 'app', auth_time: 1_800_000_000, email: 'alice@example.com' }) }),
    );
    const next = await s.origin.mint(signIn.sessionId, DEFAULT, null);
    expect(s.provider.calls.at(-1)?.form.get('refresh_token')).toBe('rt-2');
    expect(next.claims).toMatchObject({ email: 'alice@example.com' });
  });

  it('an answer whose access token fails its checks still leaves its refresh token stored', async () => {
    const s = setup();
    const { sessionId } = await signedIn(s);
    s.provider.queue.push(() => s.provider.answer({ refreshToken: 'rt-2', expiresIn: null }));
    await expect(s.origin.mint(sessionId, DEFAULT, null)).rejects.toBeInstanceOf(TokenInvalidError);
    expect(s.store.grant?.refreshToken).toBe('rt-2');
    s.provider.queue.push(() => s.provider.answer({ refreshToken: 'rt-3' }));
    await s.origin.mint(sessionId, DEFAULT, null);
    expect(s.provider.calls.at(-1)?.form.get('refresh_token')).toBe('rt-2');
  });

  it('the JWKS unreachable at the first refresh after a restart: the refresh token is stored, the token served with the claims as they were, and the ID token checked at the next refresh', async () => {
    const s = setup();
    const { sessionId } = await signedIn(s);
    const claims = s.store.grant!.claims;
    const again = s.restart();
    await again.ready;
    s.provider.jwksDown = true;
    s.provider.queue.push(async () =>
      s.provider.answer({ refreshToken: 'rt-2', accessToken: 'at-2', idToken: await s.provider.idToken({ email: 'alice@example.com' }) }),
    );
    const minted = await again.mint(sessionId, DEFAULT, null);
    expect(minted).toMatchObject({ jwt: 'at-2', claims });
    expect(s.store.grant?.refreshToken).toBe('rt-2');
    expect(s.store.grant?.pendingIdToken?.token).toBeTypeOf('string');
    expect(minted.warning).toBeUndefined();
    // Ten minutes on (the ID token lived five), the JWKS answers: the waiting ID token is checked as
    // of its arrival, and its claims become the grant's.
    s.clock.set(s.clock.now() + 10 * 60_000);
    s.provider.jwksDown = false;
    s.provider.queue.push(() => s.provider.answer({ refreshToken: 'rt-3', idToken: null }));
    const next = await again.mint(sessionId, DEFAULT, null);
    expect(s.provider.calls.at(-1)?.form.get('refresh_token')).toBe('rt-2');
    expect(next.claims).toMatchObject({ sub: 'alice', email: 'alice@example.com' });
    expect(s.store.grant?.pendingIdToken).toBeNull();
    expect(next.warning).toBeUndefined();
  });

  it('an answer that arrives after 10 s is waited for (up to 60 s) and used', async () => {
    const s = setup();
    const { sessionId } = await signedIn(s);
    s.provider.queue.push(
      () => new Promise((resolve) => s.clock.setTimeout(() => resolve(s.provider.answer({ refreshToken: 'rt-2', accessToken: 'at-late' })), 25_000)),
    );
    let settled = false;
    const minting = s.origin.mint(sessionId, DEFAULT, null).finally(() => (settled = true));
    await s.clock.advance(20_000);
    expect(settled).toBe(false);
    await s.clock.advance(5_000);
    await expect(minting).resolves.toMatchObject({ jwt: 'at-late' });
    expect(s.store.grant?.refreshToken).toBe('rt-2');
  });

  it('a request that meets no answer for 60 s fails as an outage, and the next attempt presents the same refresh token', async () => {
    const s = setup();
    const { sessionId } = await signedIn(s);
    s.provider.queue.push(() => new Promise<Response>(() => {}));
    let settled = false;
    const minting = s.origin
      .mint(sessionId, DEFAULT, null)
      .catch((e: unknown) => e)
      .finally(() => (settled = true));
    await s.clock.advance(59_000);
    expect(settled).toBe(false);
    await s.clock.advance(1_000);
    const error = await minting;
    expect(error).toBeInstanceOf(OriginUnavailableError);
    expect(s.origin.classify(error)).toBe('outage');
    s.provider.queue.push(() => Promise.reject(new TypeError('fetch failed')));
    await expect(s.origin.mint(sessionId, DEFAULT, null)).rejects.toBeInstanceOf(OriginUnavailableError);
    s.provider.queue.push(() => s.provider.answer({ refreshToken: 'rt-2' }));
    await s.origin.mint(sessionId, DEFAULT, null);
    expect(s.provider.calls.map((c) => c.form.get('refresh_token')).slice(-3)).toEqual(['rt-1', 'rt-1', 'rt-1']);
    expect(s.store.grant?.refreshToken).toBe('rt-2');
  });

  it('abortAll (the engine closing) leaves a token request running: its rotated refresh token is stored', async () => {
    const s = setup();
    const { sessionId } = await signedIn(s);
    s.provider.queue.push(() => new Promise((resolve) => s.clock.setTimeout(() => resolve(s.provider.answer({ refreshToken: 'rt-2' })), 3_000)));
    const minting = s.origin.mint(sessionId, DEFAULT, null);
    await s.clock.advance(1_000);
    s.origin.abortAll();
    await s.clock.advance(2_000);
    await expect(minting).resolves.toMatchObject({ claims: { sub: 'alice' } });
    expect(s.store.grant?.refreshToken).toBe('rt-2');
  });
});

describe('DPoP with a Bearer answer', () => {
  it("the key stays with the grant: refreshes still carry proofs, and the scheme follows each answer's token_type", async () => {
    const s = setup({
      dpop: true,
      provider: (p) => {
        p.discovery = { ...p.discovery, dpop_signing_alg_values_supported: ['ES256'] };
      },
    });
    await s.origin.ready;
    const result = await signedIn(s, { tokenType: 'Bearer' });
    expect(s.provider.calls[0]?.dpop).toBeTypeOf('string');
    expect(result.token.scheme).toBeUndefined();
    expect(s.store.grant?.dpopKey).not.toBeNull();
    s.provider.queue.push(() => s.provider.answer({ refreshToken: 'rt-2', tokenType: 'DPoP' }));
    expect((await s.origin.mint(result.sessionId, DEFAULT, null)).scheme).toBe('DPoP');
    s.provider.queue.push(() => s.provider.answer({ refreshToken: 'rt-3', tokenType: 'Bearer' }));
    expect((await s.origin.mint(result.sessionId, DEFAULT, null)).scheme).toBeUndefined();
    s.provider.queue.push(() => s.provider.answer({ refreshToken: 'rt-4', tokenType: 'Bearer' }));
    await s.origin.mint(result.sessionId, DEFAULT, null);
    const proofs = s.provider.calls.slice(1).map((c) => (c.dpop ? decodeJwt(c.dpop) : null));
    expect(proofs.map((p) => p?.htm)).toEqual(['POST', 'POST', 'POST']);
    const thumbprints = new Set(
      s.provider.calls.map((c) => JSON.stringify((JSON.parse(Buffer.from(c.dpop!.split('.')[0]!, 'base64url').toString()) as { jwk: unknown }).jwk)),
    );
    expect(thumbprints.size).toBe(1);
  });
});
