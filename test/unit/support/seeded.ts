/**
 * Property-test parameters: a seed from `FC_SEED` (to replay a failure) or a fresh one, printed in
 * the failure message by fast-check together with the shrunk counterexample and its path.
 */
import fc from 'fast-check';

export function seeded(numRuns: number): fc.Parameters<unknown> {
  const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() ^ Math.floor(Math.random() * 0x7fffffff);
  return { numRuns, seed, verbose: 0, endOnFailure: false };
}
