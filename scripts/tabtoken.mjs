#!/usr/bin/env node
// The one entry behind `npm start`, `npm test`, `npm run build` and `npm run bench`.
// It uses only Node built-ins, because on a fresh machine node_modules does not exist yet:
// it installs what is missing (node modules; Debian's chromium where the machine allows it),
// or stops with one line that says what to install.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './runCommand.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [command, ...rest] = process.argv.slice(2);

// Every command runs in a process group of its own that a signal to this script stops whole
// (scripts/runCommand.mjs): `npm start` and `npm test` leave nothing running behind them.
const run = (cmd, args, opts = {}) => runCommand(cmd, args, { cwd: root, ...opts });

function stop(line) {
  console.error(`tabtoken: ${line}`);
  process.exit(1);
}

async function ensureNodeModules() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  const fresh = existsSync(marker) && existsSync(join(root, 'node_modules', 'vitest')) &&
    (!existsSync(lock) || statSync(marker).mtimeMs >= statSync(lock).mtimeMs - 1000);
  if (fresh) return;
  console.log('tabtoken: installing node modules…');
  const args = existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
  if ((await run('npm', args)) !== 0) stop('npm could not install the node modules; run `npm install` and read its error.');
}

function isExecutable(path) {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** CHROMIUM_PATH, then /usr/bin/chromium; installs Debian's chromium when root with apt-get. */
async function ensureChromium() {
  const wanted = process.env.CHROMIUM_PATH;
  if (wanted) {
    if (isExecutable(wanted)) return wanted;
    stop(`CHROMIUM_PATH is set to ${wanted}, which does not exist; point it at a Chromium or Chrome binary.`);
  }
  const debian = '/usr/bin/chromium';
  if (isExecutable(debian)) return debian;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = isExecutable('/usr/bin/apt-get');
  if (isRoot && hasApt) {
    console.log("tabtoken: installing Debian's chromium package for the browser tests…");
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if ((await run('apt-get', ['update', '-qq'], { env })) === 0 && (await run('apt-get', ['install', '-y', '-qq', 'chromium'], { env })) === 0 && isExecutable(debian)) {
      return debian;
    }
    stop('installing chromium with apt-get failed; install Chromium (Debian: `apt-get install chromium`) or set CHROMIUM_PATH.');
  }
  stop('Chromium is needed for the browser tests: install it (Debian: `sudo apt-get install chromium`) or set CHROMIUM_PATH to a Chromium/Chrome binary.');
}

const bin = (name) => join(root, 'node_modules', '.bin', name);

async function build() {
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  for (const mode of ['worker', 'client', 'bindings', 'node']) {
    if ((await run(bin('vite'), ['build', '--mode', mode, '--logLevel', 'warn'])) !== 0) return 1;
  }
  // Declarations of the sources, then one bundled declaration file per public entry.
  if ((await run(bin('tsc'), ['-p', 'tsconfig.build.json'])) !== 0) return 1;
  return run(process.execPath, [join(root, 'scripts', 'bundleDeclarations.mjs')]);
}

await ensureNodeModules();
let status;
switch (command) {
  case 'start':
    // Vite prints the URL; the port is Vite's default or the next free one.
    status = await run(bin('vite'), ['--config', 'demo/vite.config.ts', ...rest]);
    break;
  case 'test': {
    const chromium = await ensureChromium();
    const env = { ...process.env, CHROMIUM_PATH: chromium };
    status = await run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
    if (status === 0) status = await build();
    if (status === 0) {
      const results = join(mkdtempSync(join(tmpdir(), 'tabtoken-results-')), 'vitest.json');
      status = await run(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...rest], { env });
      if (existsSync(results)) {
        const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = JSON.parse(readFileSync(results, 'utf8'));
        // One plain closing line that any CI can read.
        console.log(`tests: ${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped`);
      }
    }
    break;
  }
  case 'build':
    status = await build();
    break;
  case 'bench': {
    const chromium = await ensureChromium();
    status = await build();
    if (status === 0) status = await run(process.execPath, [join(root, 'bench', 'run.mjs'), ...rest], { env: { ...process.env, CHROMIUM_PATH: chromium } });
    break;
  }
  default:
    stop(`unknown command ${JSON.stringify(command)}; use start, test, build or bench.`);
}
process.exit(status);
