/**
 * The package as a user installs it. `npm pack` the built library; check the tarball (one
 * declaration file per public entry, the licence, a README that links nothing the tarball lacks);
 * run publint and arethetypeswrong on it; then install it into three small apps — plain
 * JavaScript, React, Vue — typecheck the TypeScript ones in strict mode against the packed
 * declarations, build them with `vite build`, serve the output with `vite preview` (the
 * development origin mounted from `tabtoken/testing`), and check in Chromium that two tabs share
 * one worker and get tokens. The React and plain apps also run under the `vite` dev server, which
 * pre-bundles dependencies. Only the tarball is installed; vite, react, vue and typescript are
 * linked from this repository's node_modules.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumLaunchOptions } from '../../dev/browsers/chromium.ts';
import { freePort } from '../../dev/ports.ts';
import { originAnswers } from './support/packagedApp.ts';

const root = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'tabtoken-pack-'));
let tarball = '';
let packed: string[] = [];
const servers = new Set<ChildProcess>();
let browser: Browser | null = null;

/** The public entries and the declaration file each ships. */
const DECLARATIONS = ['dist/index.d.ts', 'dist/react.d.ts', 'dist/testing.d.ts', 'dist/vue.d.ts', 'dist/worker.d.ts'];

function exec(file: string, args: string[], cwd: string): string {
  try {
    return execFileSync(file, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, npm_config_loglevel: 'error', NO_COLOR: '1' },
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.message}`);
  }
}
const npm = (args: string[], cwd: string) => exec('npm', args, cwd);
const bin = (name: string, args: string[], cwd: string) => exec(join(root, 'node_modules', '.bin', name), args, cwd);

/** What the repository lends every app instead of installing it. */
const LINKED = ['vite', 'typescript', 'react', 'react-dom', 'vue', '@types/react', '@types/react-dom', '@types/node'];

/** Copies a fixture app, installs the tarball into it, and links the tools and frameworks. */
function prepare(fixture: string): string {
  const app = join(work, fixture);
  cpSync(join(import.meta.dirname, fixture), app, { recursive: true });
  const manifest = join(app, 'package.json');
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('__TARBALL__', tarball));
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], app);
  for (const name of LINKED) {
    const link = join(app, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    if (!existsSync(link)) symlinkSync(join(root, 'node_modules', name), link, 'dir');
  }
  // Installed from the tarball, not linked: the app resolves the packed files.
  expect(existsSync(join(app, 'node_modules', 'tabtoken', 'dist', 'index.js'))).toBe(true);
  return app;
}

/** `vite preview` of the built app, or the `vite` dev server; resolves once the origin answers. */
async function serve(app: string, how: 'preview' | 'dev'): Promise<{ base: string; stop: () => void }> {
  const port = await freePort();
  const args = [...(how === 'preview' ? ['preview'] : []), '--host', '127.0.0.1', '--port', String(port), '--strictPort'];
  const server = spawn(process.execPath, [join(app, 'node_modules', 'vite', 'bin', 'vite.js'), ...args], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
  servers.add(server);
  let log = '';
  server.stdout!.on('data', (chunk: Buffer) => (log += chunk));
  server.stderr!.on('data', (chunk: Buffer) => (log += chunk));
  const base = `http://127.0.0.1:${port}`;
  try {
    await originAnswers(base, server, 30_000, `vite ${how} to answer`);
  } catch (cause) {
    throw new Error(`vite ${how} did not start:\n${log}`, { cause });
  }
  return {
    base,
    stop: () => {
      server.kill();
      servers.delete(server);
    },
  };
}

type AppWindow = {
  app: {
    tokens: { ready: Promise<void>; getToken(): Promise<string | null>; getSnapshot(): { mode: string }; stats(): Promise<{ tabs: number; mints: number }> };
  };
};

/**
 * Two tabs of the app, signed in before either starts the worker: both get the same token from
 * one worker (it counts two tabs and minted once), in shared mode, with no error in the console;
 * `rendered` (when given) is the id of the element where the app shows its token.
 */
async function twoTabsOnOneWorker(base: string, rendered?: string): Promise<void> {
  browser ??= await chromium.launch(chromiumLaunchOptions());
  const context = await browser.newContext();
  try {
    expect((await context.request.post(`${base}/v1/client/sign_ins`, { form: { identifier: 'packaged' } })).ok()).toBe(true);
    const errors: string[] = [];
    const pages: Page[] = [];
    for (let i = 0; i < 2; i++) {
      const page = await context.newPage();
      page.on('pageerror', (error) => errors.push(String(error)));
      page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
      await page.goto(base);
      pages.push(page);
    }
    const read = (page: Page) =>
      page.evaluate(async () => {
        const { tokens } = (globalThis as unknown as AppWindow).app;
        await tokens.ready;
        return { jwt: await tokens.getToken(), mode: tokens.getSnapshot().mode, stats: await tokens.stats() };
      });
    const a = await read(pages[0]!);
    const b = await read(pages[1]!);
    expect(a.jwt).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(b.jwt).toBe(a.jwt);
    expect([a.mode, b.mode]).toEqual(['shared', 'shared']);
    expect(b.stats.tabs).toBe(2);
    expect(b.stats.mints).toBe(1);
    expect(((await (await fetch(`${base}/__origin/stats`)).json()) as { mints: number }).mints).toBe(1);
    if (rendered) {
      for (const page of pages) {
        await page.waitForFunction(([id, jwt]) => document.getElementById(id!)?.textContent === jwt, [rendered, a.jwt], { timeout: 10_000 });
        expect(await page.textContent('#status')).toBe('ok');
      }
    }
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
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
  for (const server of servers) server.kill();
  rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships every file its exports map and bin name, one declaration file per public entry, and its licence', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, string | Record<string, string>>;
      bin: Record<string, string>;
      type: string;
      license: string;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    expect(pkg.type).toBe('module');
    const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
    for (const target of [...targets, ...Object.values(pkg.bin)]) {
      expect(packed, `${target} is in the tarball`).toContain(target.replace(/^\.\//, ''));
    }
    for (const name of ['.', './worker', './testing', './react', './vue']) {
      const entry = pkg.exports[name] as Record<string, string>;
      expect(Object.keys(entry)[0], `types first in exports["${name}"]`).toBe('types');
    }
    // Bundled declarations: exactly one per entry, importing nothing but packages (outside the
    // doc comments, whose examples may show an app's own relative imports).
    expect(packed.filter((f) => f.endsWith('.d.ts')).sort()).toEqual(DECLARATIONS);
    for (const file of DECLARATIONS) {
      expect(readFileSync(join(root, file), 'utf8'), file).not.toMatch(/^(?!\s*(\*|\/\/))[^\n]*(from\s+|import\()['"]\.{1,2}\//m);
    }
    // The bindings reach the client through its public name, so an app has one copy of it: their
    // files import `tabtoken` and hold none of its code.
    const bindings = packed.filter((f) => /^dist\/(react|vue|bindings-[\w-]+)\.js$/.test(f));
    expect(bindings.length).toBeGreaterThanOrEqual(2);
    expect(bindings.map((f) => readFileSync(join(root, f), 'utf8')).join('\n')).toMatch(/from ['"]tabtoken['"]/);
    for (const file of [...bindings, 'dist/react.d.ts', 'dist/vue.d.ts']) {
      expect(readFileSync(join(root, file), 'utf8'), file).not.toMatch(/new SharedWorker|comlink|function createTokenManager/);
    }
    for (const file of ['dist/react.d.ts', 'dist/vue.d.ts']) {
      expect(readFileSync(join(root, file), 'utf8'), file).toMatch(/from ['"]tabtoken['"]/);
    }
    expect(readFileSync(join(root, 'dist', 'index.js'), 'utf8')).not.toMatch(/from ['"](react|vue)['"]/);
    // The frameworks and vite are optional peers.
    for (const peer of ['react', 'vue', 'vite']) {
      expect(pkg.peerDependencies[peer], peer).toBeTypeOf('string');
      expect(pkg.peerDependenciesMeta[peer]?.optional, peer).toBe(true);
    }
    // The licence file says what package.json says.
    expect(pkg.license).toBe('MIT');
    expect(packed).toContain('LICENSE');
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/);
    // The worker keeps a stable name; apps with a strict CSP serve it themselves.
    expect(packed).toContain('dist/worker.js');
    expect(readFileSync(join(root, 'dist', 'bin', 'tabtoken-origin.js'), 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    // Nothing of the sources, tests or demo is published; of docs/, only the README's screenshot.
    expect(packed.filter((f) => /^(client|worker|origin|protocol|bindings|test|demo|bench|scripts|docs)\//.test(f))).toEqual(['docs/demo.png']);
    // The built client points at the worker with the pattern bundlers recognise, once, from a file
    // beside dist/worker.js (the entry or one of its chunks), so the URL resolves to it.
    const client = packed.filter((f) => /^dist\/(index|chunk-[\w-]+)\.js$/.test(f));
    const pointing = client.filter((f) => readFileSync(join(root, f), 'utf8').includes('new SharedWorker(new URL("./worker.js", import.meta.url)'));
    expect(pointing).toHaveLength(1);
  });

  it('has a README that links only what the tarball holds, and never the specification', () => {
    expect(packed).toContain('README.md');
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)\s]+)[^)]*\)|<img[^>]+src="([^"]+)"/g)].map((m) => m[1] ?? m[2]!);
    const local = links.filter((href) => !/^(https?:|mailto:|#)/.test(href)).map((href) => href.replace(/^\.\//, '').replace(/#.*$/, ''));
    for (const href of local) expect(packed, `README links ${href}`).toContain(href);
    expect(readme).not.toMatch(/SPEC/);
    expect(readme).toMatch(/npm install tabtoken/);
  });

  it('passes publint --strict and arethetypeswrong (ESM only)', () => {
    bin('publint', ['--strict'], root);
    bin('attw', ['--pack', '--profile', 'esm-only'], root);
  }, 120_000);

  it('a plain app: vite build and vite dev, two tabs on one worker', async () => {
    const app = prepare('fixture-app');
    bin('vite', ['build', '--logLevel', 'warn'], app);
    expect(readFileSync(join(app, 'dist', 'index.html'), 'utf8')).toContain('<script type="module"');
    // The worker was emitted by the app's bundler into its own output.
    expect(readdirSync(join(app, 'dist', 'assets')).some((f) => /^worker.*\.js$/.test(f))).toBe(true);
    for (const how of ['preview', 'dev'] as const) {
      const server = await serve(app, how);
      try {
        await twoTabsOnOneWorker(server.base);
      } finally {
        server.stop();
      }
    }
  });

  it('a React app: strict tsc, vite build and vite dev with no tabtoken setting, two tabs on one worker', async () => {
    const app = prepare('fixture-react');
    bin('tsc', ['--noEmit', '-p', 'tsconfig.json'], app);
    bin('vite', ['build', '--logLevel', 'warn'], app);
    expect(readdirSync(join(app, 'dist', 'assets')).some((f) => /^worker.*\.js$/.test(f))).toBe(true);
    for (const how of ['preview', 'dev'] as const) {
      const server = await serve(app, how);
      try {
        await twoTabsOnOneWorker(server.base, 'token');
      } finally {
        server.stop();
      }
    }
    // Dev pre-bundled tabtoken (nothing excluded it), and the worker still started in shared mode.
    expect(existsSync(join(app, 'node_modules', '.vite', 'deps', 'tabtoken.js'))).toBe(true);
  });

  it('a Vue app: strict tsc, vite build, two tabs on one worker', async () => {
    const app = prepare('fixture-vue');
    bin('tsc', ['--noEmit', '-p', 'tsconfig.json'], app);
    bin('vite', ['build', '--logLevel', 'warn'], app);
    const server = await serve(app, 'preview');
    try {
      await twoTabsOnOneWorker(server.base, 'token');
    } finally {
      server.stop();
    }
  });
});
