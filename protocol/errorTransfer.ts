/**
 * comlink rethrows a worker's error as a plain `Error` with only name, message and stack. This
 * replaces its built-in `throw` transfer handler so a `TokenError` arrives in the tab with its
 * class, `code`, `status`, `errors` and `retryAfter`. comlink is passed in (protocol imports nothing);
 * both the worker and the tab install it.
 */
import { deserializeError, type SerializedError } from './errors.ts';

/**
 * The tab exposes nothing that throws, so it does not carry the full serializer (it ships in the
 * 5 KB client entry); the worker passes `serializeError`.
 */
const plain = (error: unknown): SerializedError => ({ name: 'ConnectionError', code: 'connection', message: String(error) });

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
 * installErrorTransfer(Comlink.transferHandlers, serializeError); // in the worker
 */
export function installErrorTransfer(handlers: Map<string, ThrowHandler>, serialize: (error: unknown) => SerializedError = plain): void {
  const builtin = handlers.get('throw');
  if (!builtin) return;
  handlers.set('throw', {
    // comlink wraps a thrown value as `{ value, [throwMarker]: 0 }`; its own check recognises it.
    canHandle: (value: unknown) => builtin.canHandle(value),
    serialize: (thrown: { value: unknown }) => [serialize(thrown.value), []],
    deserialize: (wire: unknown) => {
      throw deserializeError(wire);
    },
  });
}
