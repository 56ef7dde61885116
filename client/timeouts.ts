import type { Clock } from '../protocol/clock.ts';
import { ConnectionError } from '../protocol/errors.ts';

/**
 * Rejects with `ConnectionError` when `promise` has not settled within `ms`: nothing a tab asks
 * of the worker hangs forever.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string, clock: Clock): Promise<T> {
  let timer: unknown;
  const late = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(new ConnectionError(`${what} got no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clock.clearTimeout(timer));
}
