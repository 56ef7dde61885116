/**
 * Property-test parameters: a seed from `FC_SEED` (to replay a failure) or a fresh one. The seed
 * is printed on every run with the one-line command that replays it, and fast-check prints it again
 * with the shrunk counterexample and its path when a property fails.
 */
import type fc from 'fast-check';

export function seeded(numRuns: number, replay?: { file: string; name: string }): fc.Parameters<unknown> {
  const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() ^ Math.floor(Math.random() * 0x7fffffff);
  if (replay)
    console.log(
      `[property] ${replay.name}: seed ${seed}, ${numRuns} runs. Replay: FC_SEED=${seed} npx vitest run ${replay.file} -t ${JSON.stringify(replay.name)}`,
    );
  return { numRuns, seed, verbose: 0, endOnFailure: false };
}
