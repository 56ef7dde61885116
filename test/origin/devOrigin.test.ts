import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createViteServer, preview as startVitePreview, type InlineConfig } from 'vite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { devOrigin, originHandlerFor, type DevOriginPlugin, type ListenOptions } from '../../origin/devOrigin.ts';
import { InvalidArgumentError } from '../../protocol/errors.ts';
import { listen, type Listening } from '../support/servers.ts';
import { rawRequest } from './harness.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'tabtoken-vite-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

/** A Vite dev server in middleware mode with the plugin, behind a plain HTTP server on 127.0.0.1. */
async function viteDev(plugin: DevOriginPlugin, server: InlineConfig['server'] = {}): Promise<string> {
  const vite = await createViteServer({
    configFile: false,
    root: tempRoot(),
    logLevel: 'silent',
    appType: 'custom',
    server: { middlewareMode: true, hmr: false, ...server },
    optimizeDeps: { noDiscovery: true, include: [] },
    plugins: [plugin],
  });
  cleanups.push(() => vite.close());
  const http = await listen(vite.middlewares);
  cleanups.push(() => http.close());
  return http.base;
}

/** A request to `base` naming `host` in its Host header. */
function withHost(base: string, host: string, path = '/v1/client'): ReturnType<typeof rawRequest> {
  return rawRequest(base, { method: 'GET', path, headers: { host } });
}

function errorCodeOf(body: string): string | null {
  try {
    return (JSON.parse(body) as { errors?: { code?: string }[] }).errors?.[0]?.code ?? null;
  } catch {
    return null;
  }
}

/** Calls the plugin's server hook with a stand-in server carrying only what the plugin reads. */
function configure(plugin: DevOriginPlugin, hook: 'configureServer' | 'configurePreviewServer', options: ListenOptions): Handler[] {
  const mounted: Handler[] = [];
  const config = hook === 'configureServer' ? { server: options } : { preview: options };
  (plugin[hook] as (server: unknown) => void)({ config, middlewares: { use: (fn: Handler) => mounted.push(fn) } });
  return mounted;
}

describe('the Vite plugin', () => {
  it('mounts the origin in a Vite dev server and leaves every other path to Vite', async () => {
    const plugin = devOrigin({ secretKey: 'sk_test_vite', faults: true });
    expect(plugin.name).toBe('tabtoken:dev-origin');
    expect(plugin.api.origin.secretKey).toBe('sk_test_vite');
    const base = await viteDev(plugin);
    const signIn = await fetch(`${base}/v1/client/sign_ins`, { method: 'POST', body: new URLSearchParams({ identifier: 'vite' }) });
    expect(signIn.status).toBe(200);
    expect((await fetch(`${base}/__origin/stats`)).status).toBe(200);
    const other = await fetch(`${base}/not-the-origin.txt`);
    expect(other.headers.get('content-type') ?? '').not.toContain('application/json');
  });

  it('mounts the origin on the preview server', async () => {
    const root = tempRoot();
    mkdirSync(join(root, 'dist'));
    const server = await startVitePreview({ configFile: false, root, logLevel: 'silent', preview: { port: 0, host: '127.0.0.1' }, plugins: [devOrigin()] });
    cleanups.push(() => server.close());
    const { port } = server.httpServer.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/v1/client`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ response: null });
  });
});

describe('the Vite plugin against DNS rebinding', () => {
  it('leaves the Host check to Vite over http with a list of allowed hosts: Vite refuses evil.example itself', async () => {
    const base = await viteDev(devOrigin());
    const res = await withHost(base, 'evil.example');
    expect(res.status).toBe(403);
    expect(res.body).toMatch(/^Blocked request/);
  });

  it('answers 403 host_not_allowed to evil.example where Vite checks nothing (allowedHosts: true)', async () => {
    const base = await viteDev(devOrigin({ faults: true }), { allowedHosts: true });
    for (const path of ['/v1/client', '/.well-known/jwks.json', '/__origin/stats', '/app/api/me']) {
      const res = await withHost(base, 'evil.example', path);
      expect(res.status, path).toBe(403);
      expect(errorCodeOf(res.body), path).toBe('host_not_allowed');
      expect(JSON.parse(res.body)).toMatchObject({ errors: [{ message: expect.any(String), long_message: expect.stringContaining('server.allowedHosts') }] });
    }
    // A rebinding page learns nothing: not even a sign-in goes through.
    const signIn = await rawRequest(base, {
      method: 'POST',
      path: '/v1/client/sign_ins',
      headers: { host: 'evil.example:80', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'identifier=x',
    });
    expect(signIn.status).toBe(403);
    expect(signIn.headers['set-cookie']).toBeUndefined();
  });

  it('still answers localhost, *.localhost and loopback addresses where Vite checks nothing', async () => {
    const base = await viteDev(devOrigin(), { allowedHosts: true });
    const port = new URL(base).port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'app.localhost', '127.0.0.2', '[::ffff:127.0.0.1]']) {
      const res = await withHost(base, host);
      expect(res.status, host).toBe(200);
    }
  });

  it('passes a path it does not serve on to Vite whatever the Host', async () => {
    const base = await viteDev(devOrigin(), { allowedHosts: true });
    const res = await withHost(base, 'evil.example', '/not-the-origin.txt');
    expect(errorCodeOf(res.body)).toBeNull();
  });

  it('answers the host Vite was told to listen on where Vite checks nothing', async () => {
    vi.stubEnv('TABTOKEN_SECRET_KEY', 'sk_test_not_the_default');
    const base = await viteDev(devOrigin(), { allowedHosts: true, host: 'devbox.lan' });
    expect((await withHost(base, 'devbox.lan:5173')).status).toBe(200);
    expect((await withHost(base, 'other.lan')).status).toBe(403);
  });

  it('over https, answers the hosts of server.allowedHosts (".app.test": it and every name under it) and no other', async () => {
    // Vite skips its own check over https; TLS itself changes nothing for the plugin, so the handler
    // it mounts for an https config is served here over plain HTTP.
    const [handler] = configure(devOrigin(), 'configureServer', { allowedHosts: ['.app.test', 'Exact.Test'], https: {} });
    const http: Listening = await listen((req, res) => handler!(req, res, () => res.writeHead(404).end()));
    cleanups.push(() => http.close());
    for (const host of ['app.test', 'eu.app.test:5173', 'exact.test', 'localhost']) expect((await withHost(http.base, host)).status, host).toBe(200);
    for (const host of ['evil.example', 'app.test.evil.example', 'notapp.test', 'sub.exact.test', '192.168.1.5']) {
      const res = await withHost(http.base, host);
      expect(res.status, host).toBe(403);
      expect(errorCodeOf(res.body), host).toBe('host_not_allowed');
    }
  });

  it('mounts the origin itself where Vite does check (http, a list of hosts), and a checking handler anywhere else', () => {
    const plugin = devOrigin();
    expect(configure(plugin, 'configureServer', { allowedHosts: [] })).toEqual([plugin.api.origin]);
    expect(configure(plugin, 'configurePreviewServer', { allowedHosts: [] })).toEqual([plugin.api.origin]);
    expect(configure(plugin, 'configureServer', { allowedHosts: true })[0]).not.toBe(plugin.api.origin);
    expect(configure(plugin, 'configurePreviewServer', { allowedHosts: [], https: {} })[0]).not.toBe(plugin.api.origin);
    // A Vite older than allowedHosts checks no Host at all.
    expect(configure(plugin, 'configureServer', {})[0]).not.toBe(plugin.api.origin);
    expect(originHandlerFor(plugin.api.origin, { allowedHosts: ['app.test'] }, 'server')).toBe(plugin.api.origin);
  });

  it('answers 403 host_not_allowed on the preview server with allowedHosts: true, naming preview.allowedHosts', async () => {
    const root = tempRoot();
    mkdirSync(join(root, 'dist'));
    const server = await startVitePreview({
      configFile: false,
      root,
      logLevel: 'silent',
      preview: { port: 0, host: '127.0.0.1', allowedHosts: true },
      plugins: [devOrigin()],
    });
    cleanups.push(() => server.close());
    const { port } = server.httpServer.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}`;
    const res = await withHost(base, 'evil.example');
    expect(res.status).toBe(403);
    expect(errorCodeOf(res.body)).toBe('host_not_allowed');
    expect(res.body).toContain('preview.allowedHosts');
    expect((await withHost(base, `localhost:${port}`)).status).toBe(200);
  });
});

describe('the Vite plugin and the default secret key', () => {
  it.each([['0.0.0.0'], [true], ['::'], ['192.168.1.10'], ['devbox.lan']])('refuses it on a server listening on %s', (host) => {
    vi.stubEnv('TABTOKEN_SECRET_KEY', '');
    const plugin = devOrigin();
    expect(plugin.api.origin.secretKey).toBe('sk_test_tabtoken');
    expect(() => configure(plugin, 'configureServer', { host, allowedHosts: [] })).toThrow(InvalidArgumentError);
    expect(() => configure(plugin, 'configureServer', { host, allowedHosts: [] })).toThrow(/secretKey.*TABTOKEN_SECRET_KEY/);
    expect(() => configure(plugin, 'configurePreviewServer', { host, allowedHosts: [] })).toThrow(/preview\.host/);
  });

  it.each([[undefined], [false], ['localhost'], ['127.0.0.1'], ['::1'], ['[::1]']])('accepts it on a server listening on %s', (host) => {
    vi.stubEnv('TABTOKEN_SECRET_KEY', '');
    const plugin = devOrigin();
    expect(configure(plugin, 'configureServer', { host, allowedHosts: [] })).toHaveLength(1);
    expect(configure(plugin, 'configurePreviewServer', { host, allowedHosts: [] })).toHaveLength(1);
  });

  it('refuses it when given as the secretKey option or as TABTOKEN_SECRET_KEY, as the standalone server does', () => {
    expect(() => configure(devOrigin({ secretKey: 'sk_test_tabtoken' }), 'configureServer', { host: '0.0.0.0', allowedHosts: [] })).toThrow(
      InvalidArgumentError,
    );
    vi.stubEnv('TABTOKEN_SECRET_KEY', 'sk_test_tabtoken');
    expect(() => configure(devOrigin(), 'configureServer', { host: '0.0.0.0', allowedHosts: [] })).toThrow(InvalidArgumentError);
  });

  it('accepts any other key beyond loopback, from the option or from TABTOKEN_SECRET_KEY', () => {
    vi.stubEnv('TABTOKEN_SECRET_KEY', '');
    expect(configure(devOrigin({ secretKey: 'sk_test_lan' }), 'configureServer', { host: '0.0.0.0', allowedHosts: [] })).toHaveLength(1);
    vi.stubEnv('TABTOKEN_SECRET_KEY', 'sk_test_env');
    expect(configure(devOrigin(), 'configureServer', { host: true, allowedHosts: [] })).toHaveLength(1);
  });

  it('makes a real Vite dev server with server.host 0.0.0.0 fail to start, and one on loopback start', async () => {
    vi.stubEnv('TABTOKEN_SECRET_KEY', '');
    const config = (host: string): InlineConfig => ({
      configFile: false,
      root: tempRoot(),
      logLevel: 'silent',
      appType: 'custom',
      // Middleware mode: the hook runs and nothing binds 0.0.0.0 on the test machine.
      server: { middlewareMode: true, hmr: false, host, watch: null },
      optimizeDeps: { noDiscovery: true, include: [] },
      plugins: [devOrigin()],
    });
    await expect(createViteServer(config('0.0.0.0'))).rejects.toThrow(InvalidArgumentError);
    const vite = await createViteServer(config('127.0.0.1'));
    await vite.close();
  });
});
