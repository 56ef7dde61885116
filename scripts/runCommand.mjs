// How scripts/tabtoken.mjs runs every command (npm ci, apt-get, tsc, vite, vitest, the benchmarks)
// so that nothing outlives it. Node built-ins only: it runs before node_modules exists.
//
// Each command gets a process group of its own. A SIGINT, SIGTERM or SIGHUP that reaches this
// script is passed to the whole group (the command and everything it started: vite's workers,
// vitest's forks, servers a test left running), and when the command ends, whatever is left of its
// group is killed. A script told to stop starts no further command and, once the group is gone,
// dies of the same signal, so npm and shells see how it ended.
//
//   npm ─► node tabtoken.mjs ─► [group] vite ─► its children
//              SIGTERM ────────────► SIGTERM to the group; 10 s later SIGKILL to what is left
//
// The group is not the terminal's foreground group, so a command must not read the terminal:
// stdin is closed (vite runs without its keyboard shortcuts; Ctrl-C still stops it, through here).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** How long a told-to-stop group may take before it is killed outright. */
const GRACE_MS = 10_000;
/**
 * A second signal this soon after the first is the same one relayed (Ctrl-C reaches both npm and
 * this script, and npm passes it on); a later one means "now".
 */
const RELAY_MS = 1_000;

/** Windows has no process groups to signal; there the command alone is stopped. */
const useGroups = process.platform !== 'win32';
const running = new Set();
let stopping = null;
let stoppingAt = 0;

function signalGroup(child, signal) {
  try {
    if (useGroups) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // The group is already gone.
  }
}

function groupAlive(child) {
  if (!useGroups) return false;
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch {
    return false;
  }
}

function dieOf(signal) {
  for (const s of SIGNALS) process.removeAllListeners(s);
  process.kill(process.pid, signal);
}

function onSignal(signal) {
  if (stopping) {
    if (Date.now() - stoppingAt >= RELAY_MS) for (const child of running) signalGroup(child, 'SIGKILL');
    return;
  }
  stopping = signal;
  stoppingAt = Date.now();
  if (running.size === 0) return dieOf(signal);
  for (const child of running) signalGroup(child, signal);
  setTimeout(() => {
    for (const child of running) signalGroup(child, 'SIGKILL');
  }, GRACE_MS).unref();
}

let listening = false;
function listen() {
  if (listening) return;
  listening = true;
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

/** Kills what the command left in its group and waits (briefly) until the group is empty. */
async function clearGroup(child) {
  signalGroup(child, 'SIGKILL');
  for (let i = 0; i < 100 && groupAlive(child); i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

/**
 * Runs `cmd args` from `opts.cwd` with the terminal's stdout and stderr and resolves with its exit
 * status (128 + the signal's number when a signal ended it). Rejects only when the command cannot
 * be started. When this script is told to stop, the command's whole group is stopped and this
 * script then dies of the same signal instead of resolving.
 *
 * @example
 * const status = await runCommand('vite', ['build'], { cwd: root });
 */
export function runCommand(cmd, args, opts = {}) {
  listen();
  if (stopping) return new Promise(() => dieOf(stopping));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts, detached: useGroups });
    running.add(child);
    child.once('error', (error) => {
      running.delete(child);
      reject(error);
    });
    child.once('exit', async (code, signal) => {
      await clearGroup(child);
      running.delete(child);
      if (stopping) return dieOf(stopping);
      resolve(code ?? 128 + (constants.signals[signal] ?? 0));
    });
  });
}
