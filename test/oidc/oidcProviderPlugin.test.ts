/**
 * `npm start`'s provider: the Vite plugin starts it once the server listens, registers the server's
 * origin and the demo's redirect page, and tells the page how to reach it.
 */
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer } from 'vite';
import { expect, test } from 'vitest';
import { oidcProviderPlugin, signInWithCodeFlow, type DemoOidcConfig } from '../../dev/oidc/index.ts';

test('the plugin serves /demo/oidc-config, and its redirect URI completes a sign-in', async () => {
  const plugin = oidcProviderPlugin({ accessTokenTtlSeconds: 20 });
  const server = await createServer({
    configFile: false,
    root: import.meta.dirname,
    logLevel: 'silent',
    plugins: [plugin],
    server: { host: '127.0.0.1', port: 0, ws: false },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  await server.listen();
  try {
    const { port } = server.httpServer!.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/demo/oidc-config`);
    expect(res.status).toBe(200);
    const config = (await res.json()) as DemoOidcConfig;
    expect(config).toMatchObject({
      clientId: 'tabtoken-demo',
      redirectUri: `http://127.0.0.1:${port}/oidc/callback`,
      postLogoutRedirectUri: `http://127.0.0.1:${port}/`,
    });
    expect(config.issuer).toBe(plugin.api.provider()?.issuer);
    const flow = await signInWithCodeFlow({ issuer: config.issuer, clientId: config.clientId, redirectUri: config.redirectUri });
    expect(flow.tokens.expires_in).toBe(20);
    expect(typeof flow.tokens.refresh_token).toBe('string');
    // The page opened as localhost gets its own origin's redirect URI, registered too.
    // (fetch will not send another Host header; node:http does.)
    const local = await new Promise<DemoOidcConfig>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/demo/oidc-config', headers: { host: `localhost:${port}` } }, (answer) => {
        let text = '';
        answer.on('data', (chunk: Buffer) => (text += chunk.toString()));
        answer.on('end', () => resolve(JSON.parse(text) as DemoOidcConfig));
      }).on('error', reject);
    });
    expect(local.redirectUri).toBe(`http://localhost:${port}/oidc/callback`);
  } finally {
    await server.close();
  }
  // The provider stops with the server.
  await expect(fetch(`${plugin.api.provider()?.issuer}/.well-known/openid-configuration`)).rejects.toThrow();
});
