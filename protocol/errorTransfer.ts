/**
 * comlink rethrows a worker's error as a plain `Error` with only name, message and stack. This
 * replaces its built-in `throw` transfer handler so a `TokenError` arrives in the tab with its
 * class, `code`, `status`, `errors` and `retryAfter`. comlink is passed in (protocol imports nothing);
 * both the worker and the tab install it.
 */
import { deserializeError, isSerializedError, serializeError } from './errors.ts';

/** The part of comlink's `TransferHandler` used here (structurally compatible). */
interface ThrowHandler {
  canHandle(value: unknown): boolean;
  serialize(value: never): [unknown, Transferable[]];
  deserialize(value: never): unknown;
}

/**
 * Installs the error transfer handler on comlink's `transferHandlers` map.
 *
 * @example
 * import * as Comlink from 'comlink';
 * installErrorTransfer(Comlink.transferHandlers);
 */
export function installErrorTransfer(handlers: Map<string, ThrowHandler>): void {
  const builtin = handlers.get('throw');
  if (!builtin) return;
  handlers.set('throw', {
    // comlink wraps a thrown value as `{ value, [throwMarker]: 0 }`; its own check recognises it.
    canHandle: (value: unknown) => builtin.canHandle(value),
    serialize: (thrown: { value: unknown }) => [serializeError(thrown.value), []],
    deserialize: (wire: unknown) => {
      throw deserializeError(isSerializedError(wire) ? wire : { name: 'ConnectionError', code: 'connection', message: 'The worker sent a malformed error' });
    },
  });
}
