/**
 * The package as a user installs it, built once per content of dist/: `npm pack` the built library,
 * install the tarball into the small app of test/e2e/fixture-app (its own package.json), build that
 * app with `vite build`, and serve the output with `vite preview` (the development origin mounted
 * from `tabtoken/testing`). The packaging test and the cross-engine suites open the same build: the
 * first one to ask builds it under test/e2e/.artifacts/, keyed by a hash of what went into it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../../../dev/ports.ts';
import { waitFor } from '../../support/wait.ts';

const root = resolve(import.meta.dirname, '../../..');
const fixture = join(root, 'test', 'e2e', 'fixture-app');
const artifacts = join(root, 'test', 'e2e', '.artifacts');
/** The repository's own Vite, which builds and serves the app (only the tarball is installed into it). */
const VITE = join(root, 'node_modules', 'vite', 'bin', 'vite.js');

export interface PackagedApp {
  /** The installed and built app (its dist/ is what `vite preview` serves). */
  dir: string;
  /** The files `npm pack` put in the tarball. */
  packed: string[];
}

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } });
}

/** Every file under `dir`, relative, sorted. */
function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

function contentHash(): string {
  const hash = createHash('sha256');
  for (const [dir, files] of [
    [join(root, 'dist'), filesOf(join(root, 'dist'))],
    [fixture, filesOf(fixture)],
  ] as const) {
    for (const file of files) hash.update(file).update(readFileSync(join(dir, file)));
  }
  hash.update(readFileSync(join(root, 'package.json')));
  hash.update(readFileSync(join(root, 'node_modules', 'vite', 'package.json')));
  return hash.digest('hex').slice(0, 16);
}

/** The packed, installed and built app for the current dist/, built now if no earlier test did. */
export function packagedApp(): PackagedApp {
  // `npm test` builds before running the tests; dist/ must be there.
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const dir = join(artifacts, `packaged-${contentHash()}`);
  const manifest = join(dir, 'packed.json');
  if (existsSync(manifest) && existsSync(join(dir, 'app', 'dist', 'index.html'))) {
    return { dir: join(dir, 'app'), packed: JSON.parse(readFileSync(manifest, 'utf8')) as string[] };
  }
  // Builds of older contents are of no further use.
  if (existsSync(artifacts))
    for (const old of readdirSync(artifacts).filter((d) => d.startsWith('packaged-'))) rmSync(join(artifacts, old), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const [info] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], root)) as [{ filename: string; files: { path: string }[] }];
  const tarball = join(dir, info.filename);
  const app = join(dir, 'app');
  cpSync(fixture, app, { recursive: true });
  writeFileSync(join(app, 'package.json'), readFileSync(join(app, 'package.json'), 'utf8').replace('__TARBALL__', tarball));
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], app);
  // Only the tarball is installed; vite is the repository's own (as in the packaging test).
  execFileSync(process.execPath, [VITE, 'build', '--logLevel', 'error'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
  const packed = info.files.map((f) => f.path);
  // Written last: a build cut off half-way is not taken for a finished one.
  writeFileSync(manifest, JSON.stringify(packed));
  return { dir: app, packed };
}

/**
 * Resolves once the development origin mounted in an app that `server` serves answers at `base`
 * (`GET /v1/client`); rejects when `server` exits first, or after `ms`.
 */
export function originAnswers(base: string, server: ChildProcess, ms: number, what: string): Promise<unknown> {
  return waitFor(
    async () => {
      if (
        await fetch(`${base}/v1/client`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return true;
      if (server.exitCode !== null) throw new Error(`it exited with ${server.exitCode}`);
      return false;
    },
    ms,
    what,
    100,
  );
}

/** Serves the built app with `vite preview` on a free port of 127.0.0.1. */
export async function previewPackagedApp(app: PackagedApp): Promise<{ base: string; close(): void }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const preview = spawn(process.execPath, [VITE, 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], { cwd: app.dir, stdio: 'ignore' });
  try {
    await originAnswers(base, preview, 20_000, 'vite preview to answer');
  } catch (cause) {
    preview.kill();
    throw new Error('vite preview did not start', { cause });
  }
  return { base, close: () => void preview.kill() };
}
