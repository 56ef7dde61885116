/**
 * Refresh-token rotation and DPoP binding at the real provider, counted from its own events: the
 * facts tabtoken's OIDC engine is built on (a rotated token presented again revokes the whole grant;
 * a DPoP-bound token works only with its key; the provider's default policy does not rotate
 * DPoP-bound tokens).
 */
import { describe, expect, test } from 'vitest';
import { createDpopKey, refreshGrant, tokenRequest } from '../../dev/oidc/index.ts';
import { provider, signIn } from './support.ts';

describe('rotation (DPoP off)', () => {
  test('each refresh returns a new refresh token, and the event log shows it used the newest one', async () => {
    const op = await provider({ dpop: false });
    const flow = await signIn(op);
    const tokenEndpoint = flow.metadata.token_endpoint;
    let current = flow.tokens.refresh_token ?? '';
    const seen = [current];
    for (let i = 0; i < 3; i++) {
      const answer = await refreshGrant({ tokenEndpoint, clientId: op.clientId, refreshToken: current });
      expect(answer.status).toBe(200);
      expect(answer.body.token_type).toBe('Bearer');
      current = String(answer.body.refresh_token);
      expect(seen).not.toContain(current);
      seen.push(current);
      expect(op.currentRefreshToken(flow.grantId)).toBe(current);
    }
    const grant = op.events.grant(flow.grantId);
    expect(grant?.refreshes).toHaveLength(3);
    expect(grant?.refreshes.every((r) => r.rotated)).toBe(true);
    expect(grant?.everyRefreshUsedNewest).toBe(true);
    expect(grant?.refreshTokens).toEqual(seen);
    expect(grant?.invalidGrants).toBe(0);
    // The rotated-away tokens are consumed, not deleted: that is how the provider detects reuse.
    const stored = op.store.refreshTokens(flow.grantId);
    expect(stored.map((t) => t.value)).toEqual(seen);
    expect(stored.filter((t) => t.consumed === null).map((t) => t.value)).toEqual([current]);
  });

  test('replaying a rotated refresh token answers invalid_grant and revokes the grant: the newest one fails too', async () => {
    const op = await provider({ dpop: false });
    const flow = await signIn(op);
    const tokenEndpoint = flow.metadata.token_endpoint;
    const old = flow.tokens.refresh_token ?? '';
    const rotated = await refreshGrant({ tokenEndpoint, clientId: op.clientId, refreshToken: old });
    const newest = String(rotated.body.refresh_token);
    const accessToken = String(rotated.body.access_token);

    const replay = await refreshGrant({ tokenEndpoint, clientId: op.clientId, refreshToken: old });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    const revoked = await op.events.waitFor((e) => e.type === 'grant_revoked' && e.grantId === flow.grantId);
    expect(revoked).toMatchObject({ route: 'token' });

    const after = await refreshGrant({ tokenEndpoint, clientId: op.clientId, refreshToken: newest });
    expect(after.status).toBe(400);
    expect(after.body.error).toBe('invalid_grant');
    expect((await op.introspect(newest)).active).toBe(false);
    expect((await op.introspect(accessToken)).active).toBe(false);
    expect(op.currentRefreshToken(flow.grantId)).toBeNull();

    const grant = op.events.grant(flow.grantId);
    expect(grant?.refreshes).toHaveLength(1);
    expect(grant?.invalidGrants).toBe(2);
    expect(grant?.errors.map((e) => e.presentedWasNewest)).toEqual([false, true]);
    expect(grant?.errors.map((e) => e.detail)).toEqual(['refresh token already used', 'refresh token not found']);
    expect(grant?.revoked?.route).toBe('token');
  });

  test("the provider's default policy rotates a public client's Bearer refresh tokens", async () => {
    const op = await provider({ dpop: false, rotation: 'provider-default' });
    const flow = await signIn(op);
    const answer = await refreshGrant({ tokenEndpoint: flow.metadata.token_endpoint, clientId: op.clientId, refreshToken: flow.tokens.refresh_token ?? '' });
    expect(answer.body.refresh_token).not.toBe(flow.tokens.refresh_token);
  });

  test("rotation 'never' keeps the refresh token", async () => {
    const op = await provider({ dpop: false, rotation: 'never' });
    const flow = await signIn(op);
    for (let i = 0; i < 2; i++) {
      const answer = await refreshGrant({ tokenEndpoint: flow.metadata.token_endpoint, clientId: op.clientId, refreshToken: flow.tokens.refresh_token ?? '' });
      expect(answer.body.refresh_token).toBe(flow.tokens.refresh_token);
    }
    expect(op.events.grant(flow.grantId)?.refreshes.map((r) => r.rotated)).toEqual([false, false]);
  });
});

describe('DPoP binding', () => {
  test('tokens are bound to the key of the code redemption; a refresh with another key, or none, fails', async () => {
    const op = await provider();
    const key = await createDpopKey();
    const flow = await signIn(op, { dpop: key });
    expect(flow.tokens.token_type).toBe('DPoP');
    expect((await op.introspect(flow.tokens.access_token)).cnf?.jkt).toBe(key.thumbprint);
    const tokenEndpoint = flow.metadata.token_endpoint;
    const refreshToken = flow.tokens.refresh_token ?? '';

    const other = await refreshGrant({ tokenEndpoint, clientId: op.clientId, refreshToken, dpop: await createDpopKey() });
    expect(other.status).toBe(400);
    expect(other.body).toMatchObject({ error: 'invalid_grant', error_description: 'grant request is invalid' });
    const none = await refreshGrant({ tokenEndpoint, clientId: op.clientId, refreshToken });
    expect(none.status).toBe(400);
    expect(none.body.error).toBe('invalid_grant');
    // A refused key does not revoke the grant: the rightful key still refreshes.
    const own = await refreshGrant({ tokenEndpoint, clientId: op.clientId, refreshToken, dpop: key });
    expect(own.status).toBe(200);
    expect(own.body.token_type).toBe('DPoP');
    const grant = op.events.grant(flow.grantId);
    expect(grant?.refreshes.map((r) => r.dpopJkt)).toEqual([key.thumbprint]);
    expect(grant?.invalidGrants).toBe(2);
    expect(grant?.errors.map((e) => e.detail)).toEqual(['failed jkt verification', 'failed jkt verification']);
    expect(grant?.revoked).toBeNull();
  });

  test("rotation 'always' rotates DPoP-bound refresh tokens and keeps them bound", async () => {
    const op = await provider({ rotation: 'always' });
    const key = await createDpopKey();
    const flow = await signIn(op, { dpop: key });
    const answer = await refreshGrant({
      tokenEndpoint: flow.metadata.token_endpoint,
      clientId: op.clientId,
      refreshToken: flow.tokens.refresh_token ?? '',
      dpop: key,
    });
    expect(answer.body.refresh_token).not.toBe(flow.tokens.refresh_token);
    expect(op.store.refreshTokens(flow.grantId).map((t) => t.jkt)).toEqual([key.thumbprint, key.thumbprint]);
  });

  test("the provider's default policy does not rotate DPoP-bound refresh tokens", async () => {
    const op = await provider({ rotation: 'provider-default' });
    const key = await createDpopKey();
    const flow = await signIn(op, { dpop: key });
    const answer = await refreshGrant({
      tokenEndpoint: flow.metadata.token_endpoint,
      clientId: op.clientId,
      refreshToken: flow.tokens.refresh_token ?? '',
      dpop: key,
    });
    expect(answer.status).toBe(200);
    expect(answer.body.refresh_token).toBe(flow.tokens.refresh_token);
  });

  test('with nonces required the token endpoint answers use_dpop_nonce with a DPoP-Nonce, and the retry with it succeeds', async () => {
    const op = await provider({ dpop: { requireNonce: true } });
    const key = await createDpopKey();
    const flow = await signIn(op, { dpop: key }); // tokenRequest retries once with the nonce
    const tokenEndpoint = flow.metadata.token_endpoint;
    const first = await fetch(tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await key.proof({ htm: 'POST', htu: tokenEndpoint }) },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: flow.tokens.refresh_token ?? '', client_id: op.clientId }),
    });
    expect(first.status).toBe(400);
    expect(((await first.json()) as { error: string }).error).toBe('use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    expect(nonce).toBeTruthy();
    const retry = await tokenRequest(
      tokenEndpoint,
      { grant_type: 'refresh_token', refresh_token: flow.tokens.refresh_token ?? '', client_id: op.clientId },
      { dpop: key, nonce: nonce ?? '' },
    );
    expect(retry.status).toBe(200);
    expect(op.events.events.filter((e) => e.type === 'token_error').map((e) => e.type === 'token_error' && e.error)).toEqual([
      'use_dpop_nonce',
      'use_dpop_nonce',
    ]);
  });

  test('with DPoP required for the client, a token request without a proof is refused', async () => {
    const op = await provider({ dpop: { required: true } });
    await expect(signIn(op)).rejects.toThrow(/400.*invalid_grant/);
    const refused = op.events.events.find((e) => e.type === 'token_error');
    expect(refused).toMatchObject({ grantType: 'authorization_code', error: 'invalid_grant' });
    expect(refused?.type === 'token_error' && refused.detail).toMatch(/DPoP/);
  });
});
