/**
 * `npm start` and `npm test` run their commands through scripts/tabtoken.mjs. A SIGTERM or SIGINT
 * to it (or to npm above it) must stop everything it started at once: the port is free and no
 * process of its tree is left when it exits. Linux only (the process tree is read from /proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/ports.ts';
import { waitFor } from '../support/wait.ts';

const root = resolve(import.meta.dirname, '../..');
const script = join(root, 'scripts', 'tabtoken.mjs');
const started: ChildProcess[] = [];
const seen = new Set<number>();

function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** Every live process below `pid` (children, their children, …), from /proc. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses; the last ')' ends it.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    parents.set(ppid, [...(parents.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of parents.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** Alive and not a zombie waiting for its parent to reap it. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function exited(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((done, fail) => {
    if (child.exitCode !== null || child.signalCode !== null) return done({ code: child.exitCode, signal: child.signalCode });
    const timer = setTimeout(() => fail(new Error(`still running ${timeoutMs} ms after the signal`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal });
    });
  });
}

/** Starts `cmd args`, waits until the demo answers on `port`, and returns it with its process tree. */
async function startDemo(cmd: string, args: string[], port: number): Promise<{ child: ChildProcess; tree: number[] }> {
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  try {
    await waitFor(
      async () => {
        if (
          await fetch(`http://127.0.0.1:${port}/v1/client`).then(
            (r) => r.ok,
            () => false,
          )
        )
          return true;
        if (child.exitCode !== null) throw new Error(`it exited with ${child.exitCode}`);
        return false;
      },
      90_000,
      `the demo to answer on port ${port}`,
      200,
    );
  } catch (cause) {
    throw new Error(`the demo did not start on port ${port}:\n${output}`, { cause });
  }
  const tree = descendants(child.pid!);
  for (const pid of tree) seen.add(pid);
  return { child, tree };
}

afterEach(() => {
  // Whatever a failed test left running (this file started it).
  for (const child of started.splice(0)) child.kill('SIGKILL');
  for (const pid of seen) if (alive(pid)) process.kill(pid, 'SIGKILL');
  seen.clear();
});

describe.skipIf(process.platform !== 'linux')('a command run by scripts/tabtoken.mjs', () => {
  it('leaves nothing behind when it ends: what it left running in its group is killed', async () => {
    // The command starts a process that would outlive it, prints that process's id and exits.
    const command = `
      const { spawn } = require('node:child_process');
      const left = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
      console.log('left ' + left.pid);
      left.unref();
      process.exit(0);`;
    const runner = `
      const { runCommand } = await import(${JSON.stringify(join(root, 'scripts', 'runCommand.mjs'))});
      const status = await runCommand(process.execPath, ['-e', ${JSON.stringify(command)}]);
      console.log('status ' + status);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', runner], { stdio: ['ignore', 'pipe', 'inherit'] });
    started.push(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
    await exited(child, 20_000);
    const left = Number(/left (\d+)/.exec(output)?.[1]);
    expect(left).toBeGreaterThan(0);
    seen.add(left);
    expect(output).toContain('status 0');
    expect(alive(left)).toBe(false);
  });
});

describe.skipIf(process.platform !== 'linux')('npm start stops everything it started', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal} to scripts/tabtoken.mjs: the script exits, the port is free, no child remains`, async () => {
      const port = await freePort();
      const { child, tree } = await startDemo(process.execPath, [script, 'start', '--port', String(port), '--strictPort'], port);
      // The script runs vite; vite is among its descendants.
      expect(tree.length).toBeGreaterThan(0);
      child.kill(signal);
      const end = await exited(child, 20_000);
      // It dies of the signal it was sent, as npm and shells expect.
      expect(end.signal).toBe(signal);
      expect(await portIsFree(port)).toBe(true);
      expect(tree.filter(alive)).toEqual([]);
    });
  }

  it('on SIGINT to npm (`npm start`): npm exits, the port is free, no child remains', async () => {
    const port = await freePort();
    const { child, tree } = await startDemo('npm', ['start', '--silent', '--', '--port', String(port), '--strictPort'], port);
    // npm, the shell it may use, the script, vite.
    expect(tree.length).toBeGreaterThan(1);
    child.kill('SIGINT');
    await exited(child, 20_000);
    expect(await portIsFree(port)).toBe(true);
    expect(tree.filter(alive)).toEqual([]);
  });
});
