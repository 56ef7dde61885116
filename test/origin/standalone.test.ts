import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startStandalone, type StandaloneServer } from '../../origin/standalone.ts';
import { InvalidArgumentError } from '../../protocol/errors.ts';
import { lanAddress, rawRequest } from './harness.ts';

const started: StandaloneServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

/** A GET naming `host` in its Host header; answers the status and the first error code. */
async function getWithHost(base: string, host: string, path = '/v1/client'): Promise<{ status: number; code: string | null }> {
  const res = await rawRequest(base, { method: 'GET', path, headers: { host } });
  const body = JSON.parse(res.body) as { errors?: { code: string }[] };
  return { status: res.status, code: body.errors?.[0]?.code ?? null };
}

/** An HTTP/1.0 request without any Host header (HTTP/1.1 requires one; Node answers 400 itself without it). */
function getWithoutHost(base: string, path: string): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(`GET ${path} HTTP/1.0\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) } };
}

describe('the standalone origin', () => {
  it('binds 127.0.0.1 by default, with the fault controls on and the default key', async () => {
    const server = await startStandalone({ port: 0, env: {} });
    started.push(server);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const address = server.server.address();
    expect(typeof address === 'object' && address?.address).toBe('127.0.0.1');
    expect(server.origin.secretKey).toBe('sk_test_tabtoken');
    expect((await fetch(`${server.url}/__origin/stats`)).status).toBe(200);
  });

  it('answers 404 not_found to unknown routes', async () => {
    const server = await startStandalone({ port: 0, env: {} });
    started.push(server);
    const res = await fetch(`${server.url}/index.html`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ errors: [{ code: 'not_found' }] });
  });

  it('takes the key from TABTOKEN_SECRET_KEY', async () => {
    const server = await startStandalone({ port: 0, env: { TABTOKEN_SECRET_KEY: 'sk_test_env' } });
    started.push(server);
    expect(server.origin.secretKey).toBe('sk_test_env');
  });

  it.each(['0.0.0.0', '::', '192.168.1.10', 'example.com'])('refuses the default key on the non-loopback host %s', async (host) => {
    await expect(startStandalone({ port: 0, host, env: {} })).rejects.toThrow(InvalidArgumentError);
    await expect(startStandalone({ port: 0, host, env: {} })).rejects.toThrow(/TABTOKEN_SECRET_KEY/);
  });

  it('refuses a port outside 0..65535', async () => {
    await expect(startStandalone({ port: 70_000, env: {} })).rejects.toThrow(/port/);
  });
});

describe('the standalone origin against DNS rebinding', () => {
  it.each(['evil.example', 'evil.example:8787', 'localhost.evil.example', 'localhost.', '127.0.0.1.nip.io', '0.0.0.0'])(
    'answers 403 host_not_allowed to Host %s',
    async (host) => {
      const server = await startStandalone({ port: 0, env: {} });
      started.push(server);
      expect(await getWithHost(server.url, host)).toEqual({ status: 403, code: 'host_not_allowed' });
    },
  );

  it('refuses a foreign Host on every path: the Frontend API, the JWKS, the fault controls, unknown paths', async () => {
    const server = await startStandalone({ port: 0, env: {} });
    started.push(server);
    for (const path of ['/v1/client', '/.well-known/jwks.json', '/__origin/stats', '/app/api/me', '/no-such-route']) {
      expect(await getWithHost(server.url, 'evil.example', path), path).toEqual({ status: 403, code: 'host_not_allowed' });
    }
    const signIn = await rawRequest(server.url, {
      method: 'POST',
      path: '/v1/client/sign_ins',
      headers: { host: 'evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'identifier=alice',
    });
    expect(signIn.status).toBe(403);
    expect(signIn.headers['set-cookie']).toBeUndefined();
    expect(server.origin.stats().requests.sign_in).toBe(0);
  });

  it('answers localhost, names under .localhost and loopback addresses, with or without a port', async () => {
    const server = await startStandalone({ port: 0, env: {} });
    started.push(server);
    const port = new URL(server.url).port;
    for (const host of [
      'localhost',
      `localhost:${port}`,
      'LOCALHOST',
      'app.localhost',
      `127.0.0.1:${port}`,
      '127.1.2.3',
      '[::1]',
      `[::1]:${port}`,
      '[::ffff:127.0.0.1]',
    ]) {
      expect(await getWithHost(server.url, host), host).toEqual({ status: 200, code: null });
    }
  });

  it('refuses a request without a Host header', async () => {
    const server = await startStandalone({ port: 0, env: {} });
    started.push(server);
    const answer = await getWithoutHost(server.url, '/v1/client');
    expect(answer).toMatch(/^HTTP\/1\.1 403 /);
    expect(answer).toContain('"code":"host_not_allowed"');
  });

  it('answers the hosts of allowHosts: a name, and with a leading dot a name and every name under it', async () => {
    const server = await startStandalone({ port: 0, env: {}, allowHosts: ['app.test', '.dev.test'] });
    started.push(server);
    for (const host of ['app.test', 'app.test:8787', 'dev.test', 'eu.dev.test']) expect((await getWithHost(server.url, host)).status, host).toBe(200);
    for (const host of ['sub.app.test', 'evil.example', 'devxtest'])
      expect(await getWithHost(server.url, host), host).toEqual({ status: 403, code: 'host_not_allowed' });
  });

  it.each([['app.test:80'], ['http://app.test'], ['app test'], [''], ['.127.0.0.1']])('refuses the allowed host %j at start', async (entry) => {
    await expect(startStandalone({ port: 0, env: {}, allowHosts: [entry] })).rejects.toThrow(InvalidArgumentError);
  });

  it.skipIf(!lanAddress)('answers the host it was told to listen on', async () => {
    const server = await startStandalone({ port: 0, host: lanAddress!, env: { TABTOKEN_SECRET_KEY: 'sk_test_lan' } });
    started.push(server);
    expect((await getWithHost(server.url, lanAddress!)).status).toBe(200);
    expect(await getWithHost(server.url, 'evil.example')).toEqual({ status: 403, code: 'host_not_allowed' });
  });
});

describe('the tabtoken-origin command line', () => {
  it('prints the URL it listens on', async () => {
    const { out, err, output } = capture();
    const { code, server } = await runCli(['--port', '0'], {}, output);
    if (server) started.push(server);
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(out).toEqual([`tabtoken development origin listening on ${server?.url}`]);
  });

  it('exits 1 with one clear line for the default key on --host 0.0.0.0', async () => {
    const { out, err, output } = capture();
    const { code, server } = await runCli(['--port', '0', '--host', '0.0.0.0'], {}, output);
    expect(code).toBe(1);
    expect(server).toBeNull();
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/refusing to listen on 0\.0\.0\.0 with the default secret key/);
  });

  it.each([[['--port', 'abc']], [['--port', '-1']], [['--bogus']], [['extra']]])('exits 1 for the arguments %j', async (argv) => {
    const { err, output } = capture();
    const { code } = await runCli(argv, {}, output);
    expect(code).toBe(1);
    expect(err).toHaveLength(1);
  });

  it('allows the origins given with --allow-origin to call it with credentials, and no other', async () => {
    const { err, output } = capture();
    const { code, server } = await runCli(
      ['--port', '0', '--allow-origin', 'http://localhost:5173', '--allow-origin', 'http://app.localhost:3000'],
      {},
      output,
    );
    if (server) started.push(server);
    expect(code).toBe(0);
    expect(err).toEqual([]);
    for (const app of ['http://localhost:5173', 'http://app.localhost:3000']) {
      const res = await fetch(`${server!.url}/v1/client`, { headers: { origin: app } });
      expect(res.headers.get('access-control-allow-origin')).toBe(app);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      expect(res.headers.get('access-control-expose-headers')).toMatch(/Date/);
    }
    const other = await fetch(`${server!.url}/v1/client`, { headers: { origin: 'http://evil.localhost:5173' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('exits 1 with one clear line for an --allow-origin that is not an origin', async () => {
    const { err, output } = capture();
    const { code, server } = await runCli(['--port', '0', '--allow-origin', 'http://localhost:5173/app'], {}, output);
    expect(code).toBe(1);
    expect(server).toBeNull();
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/allowedOrigins/);
  });

  it('answers the hosts given with --allow-host, and no other', async () => {
    const { err, output } = capture();
    const { code, server } = await runCli(['--port', '0', '--allow-host', 'app.test', '--allow-host', 'other.test'], {}, output);
    if (server) started.push(server);
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect((await getWithHost(server!.url, 'app.test:8787')).status).toBe(200);
    expect((await getWithHost(server!.url, 'other.test')).status).toBe(200);
    expect(await getWithHost(server!.url, 'evil.example')).toEqual({ status: 403, code: 'host_not_allowed' });
  });

  it('exits 1 with one clear line for an --allow-host that is not a host name', async () => {
    const { err, output } = capture();
    const { code, server } = await runCli(['--port', '0', '--allow-host', 'app.test/path'], {}, output);
    expect(code).toBe(1);
    expect(server).toBeNull();
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/allowHosts entry "app\.test\/path"/);
  });

  it('prints its usage for --help', async () => {
    const { out, output } = capture();
    expect((await runCli(['--help'], {}, output)).code).toBe(0);
    expect(out[0]).toMatch(/^usage: tabtoken-origin/);
    expect(out[0]).toContain('--allow-host');
  });
});
