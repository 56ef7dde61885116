/**
 * The package as a user installs it: `npm pack` the built library, install the tarball into a small
 * app with its own package.json, build that app with `vite build`, serve the built output with
 * `vite preview` (the development origin mounted from `tabtoken/testing`), and check in Chromium
 * that two tabs share one worker and get tokens. This proves the worker URL survives a consumer's
 * bundler. Also checks the packed files against the `exports` map. The build is made once per
 * content of dist/ (./support/packagedApp.ts) and opened in Firefox and WebKit too by test/e2e/engines/.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumLaunchOptions } from '../support/chromium.ts';
import { packagedApp, previewPackagedApp, type PackagedApp } from './support/packagedApp.ts';

const root = resolve(import.meta.dirname, '../..');
let app: PackagedApp;
let packed: string[] = [];
let preview: { close(): void } | null = null;
let browser: Browser | null = null;

beforeAll(() => {
  app = packagedApp();
  packed = app.packed;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  preview?.close();
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
    const built = readFileSync(join(app.dir, 'dist', 'index.html'), 'utf8');
    expect(built).toContain('<script type="module"');

    const server = await previewPackagedApp(app);
    preview = server;
    const base = server.base;

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
    const assets = readdirSync(join(app.dir, 'dist', 'assets'));
    expect(assets.some((f) => /^worker.*\.js$/.test(f))).toBe(true);
  });
});
