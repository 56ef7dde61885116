/**
 * The bench pages built once with bench/vite.config.ts, and `vite preview` servers that serve them
 * with the development origin. Each server loads the config anew, so it has its own origin (its own
 * token lifetime, sessions and counters) and its own request log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, preview } from 'vite';

const configFile = fileURLToPath(new URL('../vite.config.ts', import.meta.url));

/** Builds the pages into a temporary folder; returns it with a cleanup. */
export async function buildPages() {
  const outDir = mkdtempSync(join(tmpdir(), 'tabtoken-bench-'));
  await build({ configFile, build: { outDir }, logLevel: 'warn' });
  return { outDir, remove: () => rmSync(outDir, { recursive: true, force: true }) };
}

/**
 * Starts a server on a free port of 127.0.0.1. Returns its base URL, the bench plugin's api (request
 * log, launch options) and helpers for the origin's controls.
 */
export async function startServer(outDir) {
  const server = await preview({ configFile, build: { outDir }, preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('the bench server has no address');
  const base = `http://127.0.0.1:${address.port}`;
  const api = server.config.plugins.find((p) => p.name === 'tabtoken:bench')?.api;
  if (!api) throw new Error('the bench plugin is missing from bench/vite.config.ts');
  async function control(path, body) {
    const res = await fetch(
      `${base}${path}`,
      body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    );
    if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    return res.json();
  }
  return {
    base,
    api,
    /** Sets the origin's default token lifetime (both protocols). */
    setLifetime: (tokenLifetimeSeconds) => control('/__origin/config', { tokenLifetimeSeconds }),
    originStats: () => control('/__origin/stats'),
    close: () => server.close(),
  };
}
