#!/usr/bin/env node
// The one entry behind `npm start`, `npm test`, `npm run build` and `npm run bench`.
// It uses only Node built-ins, because on a fresh machine node_modules does not exist yet:
// it installs what is missing (node modules; Debian's chromium, firefox-esr, webkit2gtk-driver and
// xvfb where the machine allows it),
// or stops with one line that says what to install.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
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
  const fresh =
    existsSync(marker) && existsSync(join(root, 'node_modules', 'vitest')) && (!existsSync(lock) || statSync(marker).mtimeMs >= statSync(lock).mtimeMs - 1000);
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

/** The MiniBrowser that WebKitWebDriver drives (Debian's libwebkit2gtk-4.1-0 ships it). */
function miniBrowser() {
  if (process.env.WEBKIT_MINIBROWSER_PATH) return isExecutable(process.env.WEBKIT_MINIBROWSER_PATH) ? process.env.WEBKIT_MINIBROWSER_PATH : null;
  for (const dir of ['/usr/lib', '/usr/libexec']) {
    if (!existsSync(dir)) continue;
    for (const parent of [
      dir,
      ...readdirSync(dir)
        .filter((d) => d.endsWith('-linux-gnu'))
        .map((d) => join(dir, d)),
    ]) {
      for (const api of ['webkit2gtk-4.1', 'webkit2gtk-4.0', 'webkitgtk-6.0']) {
        if (isExecutable(join(parent, api, 'MiniBrowser'))) return join(parent, api, 'MiniBrowser');
      }
    }
  }
  return null;
}

/**
 * The browsers of the tests, each with its environment variable, where Debian puts it, the
 * packages that bring it, and what else it needs. Chromium runs every browser suite; Firefox and
 * WebKitGTK run the cross-engine suite and the cross-engine benchmarks.
 */
const BROWSERS = {
  chromium: { label: 'Chromium', env: 'CHROMIUM_PATH', path: '/usr/bin/chromium', packages: ['chromium'], also: () => null },
  firefox: { label: 'Firefox', env: 'FIREFOX_PATH', path: '/usr/bin/firefox-esr', packages: ['firefox-esr'], also: () => null },
  webkit: {
    label: 'WebKitGTK',
    env: 'WEBKIT_WEBDRIVER_PATH',
    path: '/usr/bin/WebKitWebDriver',
    packages: ['webkit2gtk-driver', 'xvfb'],
    // MiniBrowser has no headless switch: it needs a display, which xvfb-run gives it.
    also: () => (miniBrowser() === null ? 'MiniBrowser' : !isExecutable('/usr/bin/xvfb-run') && !process.env.DISPLAY ? 'xvfb-run' : null),
  },
};

/** What is missing of one browser, or null: its binary (the variable's, else Debian's), then the rest. */
function missingOf(name) {
  const b = BROWSERS[name];
  const path = process.env[b.env] || b.path;
  if (!isExecutable(path)) return process.env[b.env] ? `${b.env} is set to ${path}, which does not exist` : `${path} is missing`;
  const also = b.also();
  return also && `${also} is missing`;
}

/**
 * Finds the browsers `names` need; installs Debian's packages for the missing ones in one apt-get
 * run when root with apt (a path set by its variable is never replaced). Answers the environment
 * that tells the tests where each is, and the names still missing.
 */
async function ensureBrowsers(names) {
  let missing = names.filter((n) => missingOf(n) !== null);
  const installable = missing.filter((n) => !process.env[BROWSERS[n].env]);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (installable.length > 0 && isRoot && isExecutable('/usr/bin/apt-get')) {
    const packages = installable.flatMap((n) => BROWSERS[n].packages);
    console.log(`tabtoken: installing Debian's ${packages.join(', ')} for the browser tests…`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    // Another apt run on the machine holds the lock for a while: wait for it instead of failing.
    const lock = ['-o', 'DPkg::Lock::Timeout=600'];
    if ((await run('apt-get', ['update', '-qq', ...lock], { env })) === 0) await run('apt-get', ['install', '-y', '-qq', ...lock, ...packages], { env });
    missing = names.filter((n) => missingOf(n) !== null);
  }
  const env = {};
  for (const name of names) if (!missing.includes(name)) env[BROWSERS[name].env] = process.env[BROWSERS[name].env] || BROWSERS[name].path;
  return { env, missing };
}

/** Line that says how to get a browser. */
function howToGet(name) {
  const b = BROWSERS[name];
  return `${b.label} (${missingOf(name)}): install it (Debian: \`sudo apt-get install ${b.packages.join(' ')}\`) or set ${b.env}`;
}

/**
 * The browsers of `npm test` and `npm run bench`. Chromium is needed; without Firefox or WebKitGTK
 * their suites are skipped with one line saying so, except under CI=true, where every engine must run.
 */
async function browsersFor(command) {
  const { env, missing } = await ensureBrowsers(['chromium', 'firefox', 'webkit']);
  if (missing.includes('chromium')) stop(`Chromium is needed for the browser tests: ${howToGet('chromium')}.`);
  const others = missing.filter((n) => n !== 'chromium');
  if (others.length > 0) {
    if (process.env.CI === 'true') stop(`CI=true needs every browser engine: ${others.map(howToGet).join('; ')}.`);
    for (const name of others)
      console.log(
        `tabtoken: ${BROWSERS[name].label} is not available, so its ${command === 'bench' ? 'benchmarks are' : 'suite is'} skipped: ${howToGet(name)}.`,
      );
  }
  return { ...env, TABTOKEN_ENGINES: ['chromium', 'firefox', 'webkit'].filter((n) => !missing.includes(n)).join(',') };
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
    const env = { ...process.env, ...(await browsersFor('test')) };
    status = await run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
    // The linter and the formatter, as configured in biome.json: a finding, or a file not formatted
    // as `npm run format` writes it, fails the run.
    if (status === 0) status = await run(bin('biome'), ['check', '.']);
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
    const env = { ...process.env, ...(await browsersFor('bench')) };
    status = await build();
    if (status === 0) status = await run(process.execPath, [join(root, 'bench', 'run.mjs'), ...rest], { env });
    break;
  }
  default:
    stop(`unknown command ${JSON.stringify(command)}; use start, test, build or bench.`);
}
process.exit(status);
