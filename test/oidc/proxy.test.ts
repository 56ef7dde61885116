/**
 * The proxy in front of the provider: "down" while stopped, back on the same port, and the
 * provider's in-memory grants survive the outage.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { refreshGrant, startProxy } from '../../dev/oidc/index.ts';
import { provider, signIn } from './support.ts';

async function failureOf(url: string, timeoutMs = 2000): Promise<string> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return 'answered';
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ?? (error as Error).name;
  }
}

describe('the proxy', () => {
  test('stopped, the provider is unreachable; started again, the same grant refreshes with its current token', async () => {
    const op = await provider({ dpop: false });
    const flow = await signIn(op);
    const tokenEndpoint = flow.metadata.token_endpoint;
    const port = op.proxy.port;

    await op.proxy.stop();
    expect(op.proxy.running).toBe(false);
    // A connection fetch kept alive from before was dropped (it may fail as a closed socket the
    // first time); a new connection is refused.
    expect(await failureOf(`${op.issuer}/.well-known/openid-configuration`)).not.toBe('answered');
    expect(await failureOf(`${op.issuer}/.well-known/openid-configuration`)).toBe('ECONNREFUSED');
    await expect(refreshGrant({ tokenEndpoint, clientId: op.clientId, refreshToken: flow.tokens.refresh_token ?? '' })).rejects.toThrow();
    // Behind the proxy the provider still holds the grant.
    expect(op.currentRefreshToken(flow.grantId)).toBe(flow.tokens.refresh_token);

    await op.proxy.start();
    expect(op.proxy.port).toBe(port);
    const answer = await refreshGrant({ tokenEndpoint, clientId: op.clientId, refreshToken: op.currentRefreshToken(flow.grantId) ?? '' });
    expect(answer.status).toBe(200);
    expect(op.events.grant(flow.grantId)?.refreshes).toHaveLength(1);
  });

  test("'hang' accepts connections and never answers; start() fails them and forwards again", async () => {
    const op = await provider();
    await op.proxy.stop('hang');
    expect(await failureOf(`${op.issuer}/.well-known/openid-configuration`, 300)).toBe('TimeoutError');
    await op.proxy.start();
    expect((await fetch(`${op.issuer}/.well-known/openid-configuration`)).status).toBe(200);
  });

  test('stopping drops connections already open (a keep-alive connection does not outlive the outage)', async () => {
    let release = (): void => {};
    const target = createServer((_req, res) => {
      release = () => res.end('late');
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const proxy = await startProxy(`http://127.0.0.1:${(target.address() as AddressInfo).port}`);
    try {
      const pending = fetch(proxy.url).then((r) => r.text());
      await new Promise((resolve) => setTimeout(resolve, 100));
      await proxy.stop();
      release();
      await expect(pending).rejects.toThrow();
      expect(proxy.connections).toBe(1);
    } finally {
      await proxy.close();
      target.closeAllConnections();
      await new Promise<void>((resolve) => target.close(() => resolve()));
    }
  });
});
