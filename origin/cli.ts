#!/usr/bin/env node
/**
 * `tabtoken-origin`: the standalone development origin (built to dist/bin/tabtoken-origin.js).
 * Everything testable lives in `standalone.ts`; this file only owns the process.
 */
import { runCli } from './standalone.ts';

/** Runs the CLI on this process's arguments; exits 1 on a refusal, stops cleanly on SIGINT/SIGTERM. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const { code, server } = await runCli(argv, process.env, { out: (line) => console.log(line), err: (line) => console.error(line) });
  if (!server) {
    process.exitCode = code;
    return;
  }
  const stop = (): void => {
    void server.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
