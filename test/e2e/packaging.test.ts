/**
 * The package as a user installs it: `npm pack` the built library, install the tarball into a small
 * app with its own package.json, build that app with `vite build`, serve the built output with
 * `vite preview` (the development origin mounted from `tabtoken/testing`), and check in Chromium
 * that two tabs share one worker and get tokens. This proves the worker URL survives a consumer's
 * bundler. Also checks the packed files against the `exports` map.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumLaunchOptions } from '../support/chromium.ts';

const root = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'tabtoken-pack-'));
const app = join(work, 'app');
let tarball = '';
let packed: string[] = [];
let preview: ChildProcess | null = null;
let browser: Browser | null = null;

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } });
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

beforeAll(() => {
  // `npm test` builds before running the tests; dist/ must be there.
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const [info] = JSON.parse(npm(['pack', '--json', '--pack-destination', work], root)) as [{ filename: string; files: { path: string }[] }];
  tarball = join(work, info.filename);
  packed = info.files.map((f) => f.path);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  preview?.kill();
  rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships every file its exports map and bin name, with declarations that name .js files', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, string | Record<string, string>>;
      bin: Record<string, string>;
      type: string;
      sideEffects: boolean;
    };
    expect(pkg.type).toBe('module');
    const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
    for (const target of [...targets, ...Object.values(pkg.bin)]) {
      expect(packed, `${target} is in the tarball`).toContain(target.replace(/^\.\//, ''));
    }
    for (const name of ['.', './worker', './testing']) {
      const entry = pkg.exports[name] as Record<string, string>;
      expect(Object.keys(entry)[0], `types first in exports["${name}"]`).toBe('types');
    }
    // The worker keeps a stable name; apps with a strict CSP serve it themselves.
    expect(packed).toContain('dist/worker.js');
    expect(readFileSync(join(root, 'dist', 'bin', 'tabtoken-origin.js'), 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    // Nothing of the sources, tests or demo is published.
    expect(packed.filter((f) => /^(client|worker|origin|protocol|test|demo|bench)\//.test(f))).toEqual([]);
    const declarations = packed.filter((f) => f.endsWith('.d.ts'));
    expect(declarations.length).toBeGreaterThan(3);
    for (const file of declarations) {
      expect(readFileSync(join(root, file), 'utf8'), file).not.toMatch(/from\s+['"]\.{1,2}\/[^'"]*\.ts['"]/);
    }
    // The built client points at the worker with the pattern bundlers recognise.
    expect(readFileSync(join(root, 'dist', 'index.js'), 'utf8')).toContain('new SharedWorker(new URL("./worker.js", import.meta.url)');
  });

  it('installs into an app, survives its vite build, and two tabs share one worker and get tokens', async () => {
    cpSync(join(import.meta.dirname, 'fixture-app'), app, { recursive: true });
    const viteVersion = (JSON.parse(readFileSync(join(root, 'node_modules', 'vite', 'package.json'), 'utf8')) as { version: string }).version;
    const manifest = readFileSync(join(app, 'package.json'), 'utf8').replace('__TARBALL__', tarball).replace('__VITE_VERSION__', viteVersion);
    writeFileSync(join(app, 'package.json'), manifest);
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund'], app);
    npm(['run', 'build'], app);
    const built = readFileSync(join(app, 'dist', 'index.html'), 'utf8');
    expect(built).toContain('<script type="module"');

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    preview = spawn(join(app, 'node_modules', '.bin', 'vite'), ['preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], { cwd: app, stdio: 'ignore' });
    for (let i = 0; ; i++) {
      const up = await fetch(`${base}/v1/client`).then((r) => r.ok, () => false);
      if (up) break;
      if (i > 200) throw new Error('vite preview did not start');
      await new Promise((r) => setTimeout(r, 100));
    }

    browser = await chromium.launch(chromiumLaunchOptions());
    const context = await browser.newContext();
    // Signed in before any tab starts the worker, so exactly one worker ever mints.
    expect((await context.request.post(`${base}/v1/client/sign_ins`, { form: { identifier: 'packaged' } })).ok()).toBe(true);
    const first = await context.newPage();
    await first.goto(base);
    const second = await context.newPage();
    await second.goto(base);
    type App = { app: { tokens: { ready: Promise<void>; getToken(): Promise<string | null>; stats(): Promise<{ tabs: number; mints: number }> } } };
    const read = (page: typeof first) => page.evaluate(async () => {
      const { tokens } = (globalThis as unknown as App).app;
      await tokens.ready;
      return { jwt: await tokens.getToken(), stats: await tokens.stats() };
    });
    const a = await read(first);
    const b = await read(second);
    expect(a.jwt).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(b.jwt).toBe(a.jwt);
    // One worker for both tabs: it counts both, and minted once.
    expect(b.stats.tabs).toBe(2);
    expect(b.stats.mints).toBe(1);
    const origin = (await (await fetch(`${base}/__origin/stats`)).json()) as { mints: number };
    expect(origin.mints).toBe(1);
    // The worker was emitted by the app's bundler into its own output.
    const assets = readdirSync(join(app, 'dist', 'assets'));
    expect(assets.some((f) => /^worker.*\.js$/.test(f))).toBe(true);
  });
});
