/**
 * comlink rethrows a worker's error as a plain `Error` with only name, message and stack. This
 * replaces its built-in `throw` transfer handler so a `TokenError` arrives in the tab with its
 * class, `code`, `status`, `errors` and `retryAfter`. comlink is passed in (protocol imports nothing);
 * both the worker and the tab install it.
 */
import type { SerializedError } from './errors.ts';

/** The part of comlink's `TransferHandler` used here (structurally compatible). */
interface ThrowHandler {
  canHandle(value: unknown): boolean;
  serialize(value: never): [unknown, Transferable[]];
  deserialize(value: never): unknown;
}

/**
 * Installs the error transfer handler on comlink's `transferHandlers` map. Each side passes only
 * the half it uses (null keeps comlink's own): the tab exposes nothing that throws, so it passes
 * only `deserializeError`; the worker is never thrown at, so it passes only `serializeError`.
 *
 * @example
 * import * as Comlink from 'comlink';
 * installErrorTransfer(Comlink.transferHandlers, serializeError, null); // in the worker
 * installErrorTransfer(Comlink.transferHandlers, null, deserializeError); // in the tab
 */
export function installErrorTransfer(handlers: Map<string, ThrowHandler>, serialize: ((error: unknown) => SerializedError) | null, revive: ((wire: unknown) => unknown) | null): void {
  const builtin = handlers.get('throw');
  if (!builtin) return;
  handlers.set('throw', {
    // comlink wraps a thrown value as `{ value, [throwMarker]: 0 }`; its own check recognises it.
    canHandle: (value: unknown) => builtin.canHandle(value),
    serialize: (thrown: { value: unknown }) => (serialize ? [serialize(thrown.value), []] : builtin.serialize(thrown as never)),
    deserialize: (wire: unknown) => {
      throw revive ? revive(wire) : builtin.deserialize(wire as never);
    },
  });
}
