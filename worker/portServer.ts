/**
 * The worker's end of a tab's port. A tab calls the worker through comlink's `wrap` and its typed
 * proxy (client/SharedConnection.ts); the worker answers comlink's wire format here rather than
 * with comlink's `expose`, which follows any property path it is sent: `hello.constructor` is the
 * worker realm's `Function`, so a script of the origin that opens the worker by its URL and name
 * could build code in the worker and run it there, where the refresh token lives (issue 18).
 *
 * Only a call (`APPLY`) of one of the API's own functions, by its own name (a path of exactly one
 * element), with plain arguments, runs. Every other message comlink can send — a longer path, a read
 * (`GET`), an assignment (`SET`), a construction, an `ENDPOINT` request — is answered with comlink's
 * thrown-error reply carrying an `InvalidArgumentError`, and runs nothing. (Leaving comlink's
 * 4 KB out of the worker also keeps it within its size budget.)
 *
 * The wire, as comlink 4.4 speaks it (node_modules/comlink/dist/esm/comlink.mjs):
 *
 *   tab → worker  { id, type: 'APPLY', path: ['getToken'], argumentList: [{ type: 'RAW', value }] }
 *   worker → tab  { id, type: 'RAW', value }                                  the result
 *                 { id, type: 'HANDLER', name: 'throw', value: SerializedError } a thrown error
 *   tab → worker  { id, type: 'RELEASE' }  →  { id, type: 'RAW' }, then the port closes
 *
 * A callback argument (`hello`'s `onError`, made with `Comlink.proxy`) arrives as
 * `{ type: 'HANDLER', name: 'proxy', value: MessagePort }`; calling it posts
 * `{ id, type: 'APPLY', path: [], argumentList: [{ type: 'RAW', value }] }` on that port.
 */
import { InvalidArgumentError, isRecord, serializeError } from '../protocol/errors.ts';
import { randomId } from '../protocol/randomId.ts';

/** Functions by name; the server reads only own properties of it. */
export type PortApi = Record<string, (...args: unknown[]) => unknown>;

/** The only functions that may take a callback, and at which argument. */
const CALLBACKS: Readonly<Record<string, number>> = { hello: 1 };

/** A wire value as a plain argument, or a callback where one is expected; `refused` otherwise. */
function argument(wire: unknown, name: string, index: number, refused: symbol): unknown {
  if (!isRecord(wire)) return refused;
  if (wire.type === 'RAW') return wire.value;
  const port = wire.value;
  if (wire.type !== 'HANDLER' || wire.name !== 'proxy' || CALLBACKS[name] !== index || !(port instanceof MessagePort)) return refused;
  // Nothing is read from the callback's port: its answers are dropped as they arrive.
  port.start();
  return (value: unknown) => port.postMessage({ id: randomId(), type: 'APPLY', path: [], argumentList: [{ type: 'RAW', value }] });
}

/** What a refused message asked for, cut short, for the error message. */
function described(type: unknown, path: unknown): string {
  const steps = Array.isArray(path)
    ? path
        .slice(0, 4)
        .map((p) => (typeof p === 'string' ? p.slice(0, 40) : typeof p))
        .join('.')
    : '';
  return `${typeof type === 'string' ? type.slice(0, 16) : typeof type} ${steps || '(no path)'}`;
}

/**
 * Answers comlink calls of `api`'s own functions on `port`, and refuses everything else.
 *
 * @example
 * scope.addEventListener('connect', (event) => serve(event.ports[0], tabApi()));
 */
export function serve(port: MessagePort, api: PortApi): void {
  port.addEventListener('message', ({ data }: MessageEvent) => {
    // Comlink's own server ignores what is not a message object; so does this one.
    if (!isRecord(data)) return;
    const { id, type, path, argumentList } = data;
    const reply = (message: object) => port.postMessage({ ...message, id });
    if (type === 'RELEASE') {
      // The tab released its proxy (it closes): answer as comlink does, then let the port go.
      reply({ type: 'RAW' });
      port.close();
      return;
    }
    const name = Array.isArray(path) && path.length === 1 && typeof path[0] === 'string' ? path[0] : '';
    const refused = Symbol();
    const args =
      type === 'APPLY' && Object.hasOwn(api, name) && Array.isArray(argumentList) && argumentList.length <= 2
        ? argumentList.map((wire, i) => argument(wire, name, i, refused))
        : [refused];
    new Promise((resolve) => {
      if (args.includes(refused)) {
        throw new InvalidArgumentError(`The worker answers only calls of its operations by name, with plain arguments; refused ${described(type, path)}`);
      }
      resolve(api[name]!(...args));
    })
      .then(
        (value) => reply({ type: 'RAW', value }),
        (error: unknown) => reply({ type: 'HANDLER', name: 'throw', value: serializeError(error) }),
      )
      // A result structured clone refuses (none of the API's): the caller still gets an answer.
      .catch((error: unknown) => reply({ type: 'HANDLER', name: 'throw', value: serializeError(error) }));
  });
  port.start();
}
