/**
 * The fault layer behind the proxy: one path unreachable while the others answer, a token answer
 * held after the provider has processed the request, and an answer's JSON rewritten on its way out.
 */
import { describe, expect, test } from 'vitest';
import { createDpopKey, refreshGrant } from '../../dev/oidc/index.ts';
import { provider, signIn } from './support.ts';

describe('the fault layer', () => {
  test('an unreachable JWKS path closes the connection unanswered while discovery and the token endpoint answer; removed, it answers again', async () => {
    const op = await provider({ dpop: false });
    const flow = await signIn(op);
    const jwks = op.endpointPath('jwks');
    expect(new URL(flow.metadata.jwks_uri).pathname).toBe(jwks);
    const restore = op.faults.unreachable(jwks);
    await expect(fetch(flow.metadata.jwks_uri)).rejects.toThrow();
    expect((await fetch(`${op.issuer}/.well-known/openid-configuration`)).status).toBe(200);
    const refreshed = await refreshGrant({ tokenEndpoint: flow.metadata.token_endpoint, clientId: op.clientId, refreshToken: flow.tokens.refresh_token ?? '' });
    expect(refreshed.status).toBe(200);
    expect(op.faults.hits(jwks)).toBe(1);
    restore();
    expect((await fetch(flow.metadata.jwks_uri)).status).toBe(200);
  });

  test('a held token answer leaves late, though the provider processed the refresh (and rotated the token) at once', async () => {
    const op = await provider({ dpop: false });
    const flow = await signIn(op);
    op.faults.hold(op.endpointPath('token'), 1500);
    const started = Date.now();
    const answer = refreshGrant({ tokenEndpoint: flow.metadata.token_endpoint, clientId: op.clientId, refreshToken: flow.tokens.refresh_token ?? '' });
    const processed = await op.events.waitFor((e) => e.type === 'refresh' && e.grantId === flow.grantId, 1000);
    expect(processed.at - started).toBeLessThan(1000);
    expect(op.currentRefreshToken(flow.grantId)).not.toBe(flow.tokens.refresh_token);
    const late = await answer;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(late.status).toBe(200);
    expect(late.body.refresh_token).toBe(op.currentRefreshToken(flow.grantId));
    // One answer only: the next one leaves at once.
    const next = Date.now();
    await refreshGrant({ tokenEndpoint: flow.metadata.token_endpoint, clientId: op.clientId, refreshToken: String(late.body.refresh_token) });
    expect(Date.now() - next).toBeLessThan(1000);
  });

  test("a rewrite changes the answer's JSON as it leaves: token_type Bearer for tokens that stay bound to the DPoP key", async () => {
    const op = await provider({ dpop: true });
    const token = op.endpointPath('token');
    op.faults.add({
      path: token,
      method: 'POST',
      fault: { kind: 'rewrite', body: (json) => (json.token_type === 'DPoP' ? { ...json, token_type: 'Bearer' } : json) },
    });
    const key = await createDpopKey();
    const flow = await signIn(op, { dpop: key });
    expect(flow.tokens.token_type).toBe('Bearer');
    expect((await op.introspect(flow.tokens.access_token)).cnf?.jkt).toBe(key.thumbprint);
    const withoutProof = await refreshGrant({
      tokenEndpoint: flow.metadata.token_endpoint,
      clientId: op.clientId,
      refreshToken: flow.tokens.refresh_token ?? '',
    });
    expect(withoutProof.body.error).toBe('invalid_grant');
    const withProof = await refreshGrant({
      tokenEndpoint: flow.metadata.token_endpoint,
      clientId: op.clientId,
      refreshToken: flow.tokens.refresh_token ?? '',
      dpop: key,
    });
    expect(withProof).toMatchObject({ status: 200, body: { token_type: 'Bearer' } });
  });
});
