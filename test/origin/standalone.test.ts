import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startStandalone, type StandaloneServer } from '../../origin/standalone.ts';
import { InvalidArgumentError } from '../../protocol/errors.ts';

const started: StandaloneServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

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
    const { code, server } = await runCli(['--port', '0', '--allow-origin', 'http://localhost:5173', '--allow-origin', 'http://app.localhost:3000'], {}, output);
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

  it('prints its usage for --help', async () => {
    const { out, output } = capture();
    expect((await runCli(['--help'], {}, output)).code).toBe(0);
    expect(out[0]).toMatch(/^usage: tabtoken-origin/);
  });
});
