/**
 * The worker's end of a tab's port (SPEC 6): comlink's own `wrap` on one side of a real
 * MessageChannel, the worker's server on the other. Calls of the API's functions by name work, a
 * callback reaches the tab; every other path, read, assignment, construction or endpoint request is
 * refused with InvalidArgumentError and runs nothing — the control shows that comlink's own `expose`,
 * given the same messages, runs the code the page sent.
 */
import * as Comlink from 'comlink';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deserializeError } from '../../protocol/errors.ts';
import { installErrorTransfer } from '../../protocol/errorTransfer.ts';
import { serve, type PortApi } from '../../worker/portServer.ts';

type Marked = typeof globalThis & { __tabtokenRan?: number };
/** What a page can do with a comlink proxy at some path: await it (a read), call it, construct it. */
interface Hostile extends PromiseLike<unknown> {
  (...args: unknown[]): Promise<unknown>;
  new (...args: unknown[]): Promise<unknown>;
}
/** The comlink proxy at `path`, as `remote.a.b` would reach it. */
const at = (remote: object, ...path: (string | symbol)[]): Hostile => path.reduce<object>((proxy, key) => Reflect.get(proxy, key) as object, remote) as Hostile;
const RUN = 'globalThis.__tabtokenRan = (globalThis.__tabtokenRan ?? 0) + 1';

const open: MessagePort[] = [];
afterEach(() => {
  for (const port of open.splice(0)) port.close();
  delete (globalThis as Marked).__tabtokenRan;
});
beforeAll(() => {
  installErrorTransfer(Comlink.transferHandlers, deserializeError);
});

/** The worker's API as the hosts build it: no prototype; each call recorded. */
function api() {
  const calls: [string, unknown[]][] = [];
  let callback: ((value: unknown) => void) | null = null;
  const table: PortApi = Object.assign(Object.create(null) as PortApi, {
    hello: (hello: unknown, onError?: (value: unknown) => void) => {
      calls.push(['hello', [hello]]);
      callback = onError ?? null;
      return { instance: 'w-1', snapshot: { version: 0 } };
    },
    getToken: (request: unknown) => {
      calls.push(['getToken', [request]]);
      return 'jwt.x';
    },
    stats: () => {
      throw Object.assign(new Error('not here'), { name: 'Whatever' });
    },
  });
  return { table, calls, notify: (value: unknown) => callback?.(value) };
}

function connect(server: (port: MessagePort) => void) {
  const { port1, port2 } = new MessageChannel();
  open.push(port1, port2);
  server(port1);
  return { remote: Comlink.wrap(port2) as object, port: port2 };
}

/** Posts one raw comlink message (with `transfer`) and resolves with the answer that carries its id. */
function raw(port: MessagePort, message: Record<string, unknown>, transfer: Transferable[] = []): Promise<Record<string, unknown>> {
  const id = `raw-${Math.random()}`;
  return new Promise((resolve) => {
    const listener = ({ data }: MessageEvent) => {
      if (data?.id !== id) return;
      port.removeEventListener('message', listener);
      resolve(data as Record<string, unknown>);
    };
    port.addEventListener('message', listener);
    port.start();
    port.postMessage({ ...message, id }, transfer);
  });
}

/** Every attempt of a hostile page that wrapped the worker's port, as a promise each. */
function attacks(r: object): [string, () => Promise<unknown>][] {
  return [
    ['construct hello.constructor', async () => ((await new (at(r, 'hello', 'constructor'))(RUN)) as Hostile)()],
    ['call hello.constructor', async () => ((await at(r, 'hello', 'constructor')(RUN)) as Hostile)()],
    ['construct __proto__.constructor.constructor', async () => ((await new (at(r, '__proto__', 'constructor', 'constructor'))(RUN)) as Hostile)()],
    ['read a non-operation', async () => at(r, 'foo')],
    ['read hello.length', async () => at(r, 'hello', 'length')],
    ['read constructor', async () => at(r, 'constructor')],
    ['read __proto__', async () => at(r, '__proto__')],
    ['call toString', async () => at(r, 'toString')()],
    ['call getToken.call', async () => at(r, 'getToken', 'call')(null, { template: null })],
    ['call hello.apply', async () => at(r, 'hello', 'apply')(null, [{}])],
    ['ask for an endpoint', async () => at(r, Comlink.createEndpoint)()],
  ];
}

describe('the worker port', () => {
  it('answers calls of its operations by name, with their results, errors and callbacks', async () => {
    const { table, calls, notify } = api();
    const { remote } = connect((port) => serve(port, table));
    const heard: unknown[] = [];
    await expect(
      at(remote, 'hello')(
        { tabId: 't' },
        Comlink.proxy((value: unknown) => heard.push(value)),
      ),
    ).resolves.toEqual({ instance: 'w-1', snapshot: { version: 0 } });
    await expect(at(remote, 'getToken')({ template: null })).resolves.toBe('jwt.x');
    // A thrown value that is not a TokenError arrives as a ConnectionError with its message.
    await expect(at(remote, 'stats')()).rejects.toMatchObject({ code: 'connection', message: 'not here' });
    notify({ code: 'origin_unavailable' });
    await expect.poll(() => heard).toEqual([{ code: 'origin_unavailable' }]);
    expect(calls).toEqual([
      ['hello', [{ tabId: 't' }]],
      ['getToken', [{ template: null }]],
    ]);
  });

  it('refuses every other path, read, construction and endpoint request with InvalidArgumentError, and runs nothing', async () => {
    const { table, calls } = api();
    const { remote } = connect((port) => serve(port, table));
    for (const [what, attack] of attacks(remote)) {
      const error = await attack().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, what).toMatchObject({ name: 'InvalidArgumentError', code: 'invalid_argument' });
    }
    expect((globalThis as Marked).__tabtokenRan).toBeUndefined();
    expect(calls).toEqual([]);
  });

  it('refuses assignments, unknown message types, odd paths and arguments that are not plain values', async () => {
    const { table, calls } = api();
    // The proxy is kept: once every comlink proxy of a port is collected, comlink releases the port
    // (RELEASE), and the worker closes its end.
    const { remote, port } = connect((p) => serve(p, table));
    const refused = { type: 'HANDLER', name: 'throw', value: { name: 'InvalidArgumentError', code: 'invalid_argument' } };
    const proxyPort = new MessageChannel();
    open.push(proxyPort.port1, proxyPort.port2);
    for (const message of [
      { type: 'SET', path: ['hello'], value: { type: 'RAW', value: 1 } },
      { type: 'SET', path: ['x'], value: { type: 'RAW', value: 1 } },
      { type: 'SET', path: ['__proto__', 'polluted'], value: { type: 'RAW', value: 'yes' } },
      { type: 'GET', path: ['getToken'] },
      { type: 'GET', path: [] },
      { type: 'CONSTRUCT', path: ['getToken'], argumentList: [] },
      { type: 'ENDPOINT' },
      { type: 'APPLY', path: [], argumentList: [] },
      { type: 'APPLY', path: ['getToken', 'call'], argumentList: [] },
      { type: 'APPLY', path: [['getToken']], argumentList: [] },
      { type: 'APPLY', path: ['hasOwnProperty'], argumentList: [{ type: 'RAW', value: 'hello' }] },
      { type: 'APPLY', path: ['getToken'], argumentList: 'not a list' },
      {
        type: 'APPLY',
        path: ['getToken'],
        argumentList: [
          { type: 'RAW', value: 1 },
          { type: 'RAW', value: 2 },
          { type: 'RAW', value: 3 },
        ],
      },
      { type: 'APPLY', path: ['getToken'], argumentList: [{ type: 'HANDLER', name: 'throw', value: { isError: false, value: 1 } }] },
      { type: 'APPLY', path: ['getToken'], argumentList: [{ type: 'HANDLER', name: 'nope', value: 1 }] },
      { type: 'APPLY', path: ['getToken'], argumentList: [{ type: 'HANDLER', name: 'proxy', value: proxyPort.port2 }] },
      { type: 'APPLY', path: ['hello'], argumentList: [{ type: 'HANDLER', name: 'proxy', value: 'not a port' }] },
      { type: 'APPLY', path: ['getToken'], argumentList: [null] },
    ]) {
      const transfer = message.argumentList?.[0] && (message.argumentList as { value?: unknown }[])[0]?.value === proxyPort.port2 ? [proxyPort.port2] : [];
      const answer = await raw(port, message, transfer);
      expect(answer, JSON.stringify(message)).toMatchObject(refused);
    }
    expect(calls).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expect(at(remote, 'getToken')({ template: null })).resolves.toBe('jwt.x');
  });

  it("is what comlink's own expose is not: given the same attack, expose runs the page's code (the control)", async () => {
    const { table } = api();
    const { remote } = connect((port) => Comlink.expose(table, port));
    await ((await new (at(remote, 'hello', 'constructor'))(RUN)) as Hostile)();
    expect((globalThis as Marked).__tabtokenRan).toBe(1);
  });
});
