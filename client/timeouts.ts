import { ConnectionError } from '../protocol/errors.ts';

/**
 * Rejects with `ConnectionError` when `promise` has not settled within `ms`: nothing a tab asks
 * of the worker hangs forever.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ConnectionError(`${what} got no answer within ${ms / 1000} s`)), ms);
    promise.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (error: unknown) => { clearTimeout(timer); reject(error); },
    );
  });
}
