/**
 * comlink rethrows a worker's error as a plain `Error` with only name, message and stack. The worker
 * (worker/portServer.ts) sends a `TokenError` as its wire shape (`serializeError`); this replaces
 * comlink's built-in `throw` transfer handler in the tab so the error arrives with its class, `code`,
 * `status`, `errors` and `retryAfter`. comlink is passed in (protocol imports nothing).
 */

/** The part of comlink's `TransferHandler` used here (structurally compatible). */
interface ThrowHandler {
  canHandle(value: unknown): boolean;
  serialize(value: never): [unknown, Transferable[]];
  deserialize(value: never): unknown;
}

/**
 * Installs `revive` as the reviver of thrown errors on comlink's `transferHandlers` map (keeping the
 * rest of comlink's own `throw` handler).
 *
 * @example
 * import * as Comlink from 'comlink';
 * installErrorTransfer(Comlink.transferHandlers, deserializeError);
 */
export function installErrorTransfer(handlers: Map<string, ThrowHandler>, revive: (wire: unknown) => unknown): void {
  const builtin = handlers.get('throw');
  if (builtin) {
    handlers.set('throw', {
      ...builtin,
      deserialize: (wire: unknown) => {
        throw revive(wire);
      },
    });
  }
}
