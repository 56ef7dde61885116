/**
 * Drill 8 — a hostile page on the worker's port (SPEC 6, issue 18 item 1). A script of the origin
 * opens the SharedWorker by its URL and name, as the page's own tabs do, wraps the port with comlink
 * and tries what comlink's proxy lets a page write: construct `hello.constructor` (the worker realm's
 * `Function`) from code and call what it built, call it, read non-operations, assign, walk
 * `__proto__`, ask for a new endpoint. Every attempt rejects `InvalidArgumentError`; nothing runs in
 * the worker — the code it would build posts on a BroadcastChannel the test listens to, and nothing
 * arrives within a second — and the tabs keep working. A DPoP proof is asked for a foreign URL: refused
 * (issue 18 item 10). The same against a local-mode leader's `:rpc` channel: an `op` that is not an
 * operation gets an `InvalidArgumentError` reply and runs nothing.
 */
import * as Comlink from 'comlink';
import { describe, expect } from 'vitest';
import { validateManagerOptions } from '../../../client/options.ts';
import { workerKey } from '../../../protocol/names.ts';
import { deserializeError } from '../../../protocol/errors.ts';
import { installErrorTransfer } from '../../../protocol/errorTransfer.ts';
import { signIn } from '../support/origin.ts';
import { it } from '../support/fixtures.ts';
import { quietFor, uniqueNamespace, waitFor } from '../support/tabs.ts';

// This page reads the worker's errors the way a tab does (any page of the origin can).
installErrorTransfer(Comlink.transferHandlers, deserializeError);

/** What a page can do with a comlink proxy at some path: await it (a read), call it, construct it. */
interface Hostile extends PromiseLike<unknown> {
  (...args: unknown[]): Promise<unknown>;
  new (...args: unknown[]): Promise<unknown>;
}
/** The comlink proxy at `path`, as `remote.a.b` reaches it. */
const at = (remote: object, ...path: (string | symbol)[]): Hostile => path.reduce<object>((proxy, key) => Reflect.get(proxy, key) as object, remote) as Hostile;

/** Listens on a side channel for anything the worker might be made to post. */
function sideChannel(): { name: string; heard: unknown[]; close(): void } {
  const name = `tabtoken-test:side:${Math.random().toString(36).slice(2)}`;
  const heard: unknown[] = [];
  const channel = new BroadcastChannel(name);
  channel.onmessage = (event: MessageEvent) => heard.push(event.data);
  return { name, heard, close: () => channel.close() };
}

/** Posts one raw comlink message on `port` and resolves with the answer that carries its id. */
function raw(port: MessagePort, message: Record<string, unknown>): Promise<Record<string, unknown>> {
  const id = `raw-${Math.random()}`;
  return new Promise((resolve) => {
    const listener = ({ data }: MessageEvent) => {
      if ((data as { id?: unknown } | null)?.id !== id) return;
      port.removeEventListener('message', listener);
      resolve(data as Record<string, unknown>);
    };
    port.addEventListener('message', listener);
    port.postMessage({ ...message, id });
  });
}

describe("drill 8: a hostile page on the worker's port and on the leader's rpc channel", () => {
  it('every path, read, assignment, construction and endpoint request is refused, nothing runs in the worker, and the tabs keep working', {
    timeout: 60_000,
  }, async ({ tabs }) => {
    const sessionId = await signIn();
    const namespace = uniqueNamespace('hostile-port');
    const [tab] = await tabs.open(1, { namespace, mode: 'shared' });
    const token = await tab!.api.manager.getToken();
    expect(token).toBeTypeOf('string');

    // The worker as any script of the origin can open it: its URL (the one the client's bundle names)
    // and its name (the worker key, which follows from the options).
    const { config } = validateManagerOptions({ namespace }, location.origin);
    const worker = new SharedWorker(new URL('../../../worker/sharedWorker.ts', import.meta.url), { type: 'module', name: workerKey(config) });
    const remote = Comlink.wrap(worker.port) as object;
    // The same worker the tab talks to: a hello of this page gets the tab's session and token.
    const welcome = (await at(remote, 'hello')({ tabId: 'hostile-page', config, sessionId: null, visible: false, fetchOrigins: [] })) as {
      snapshot: { sessionId: string; tokens: Record<string, { jwt: string }> };
    };
    expect(welcome.snapshot.sessionId).toBe(sessionId);
    expect(welcome.snapshot.tokens[`${sessionId}|||`]?.jwt).toBe(token);

    const side = sideChannel();
    const code = `new BroadcastChannel(${JSON.stringify(side.name)}).postMessage('ran in the worker')`;
    const attempts: [string, () => Promise<unknown>][] = [
      ['new hello.constructor(code), then calling it', async () => ((await new (at(remote, 'hello', 'constructor'))(code)) as Hostile)()],
      ['hello.constructor(code), then calling it', async () => ((await at(remote, 'hello', 'constructor')(code)) as Hostile)()],
      ['new getToken.constructor(code)', async () => new (at(remote, 'getToken', 'constructor'))(code)],
      ['new __proto__.constructor.constructor(code)', async () => ((await new (at(remote, '__proto__', 'constructor', 'constructor'))(code)) as Hostile)()],
      ['constructor.constructor(code)', async () => at(remote, 'constructor', 'constructor')(code)],
      ['await remote.foo', async () => at(remote, 'foo')],
      ['await remote.hello.length', async () => at(remote, 'hello', 'length')],
      ['await remote.constructor', async () => at(remote, 'constructor')],
      ['await remote.__proto__', async () => at(remote, '__proto__')],
      ['remote.toString()', async () => at(remote, 'toString')()],
      ['remote.hasOwnProperty("hello")', async () => at(remote, 'hasOwnProperty')('hello')],
      [
        'remote.getToken.call(…)',
        async () =>
          at(remote, 'getToken', 'call')(null, { template: null, organizationId: null, expiresInSeconds: null, skipCache: true, leewayInSeconds: 15 }),
      ],
      ['remote[Comlink.createEndpoint]()', async () => at(remote, Comlink.createEndpoint)()],
    ];
    for (const [what, attempt] of attempts) {
      const error = await attempt().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, what).toBeInstanceOf(Error);
      expect((error as { code?: unknown }).code, what).toBe('invalid_argument');
      expect((error as { name?: unknown }).name, what).toBe('InvalidArgumentError');
    }

    // Assignments: comlink's proxy turns `remote.hello = 1` into a SET message whose answer the
    // assignment drops, so its rejection surfaces as an unhandled one, read here; the same messages,
    // and more, are then sent raw and their answers read.
    const dropped: unknown[] = [];
    const hear = (event: PromiseRejectionEvent) => {
      dropped.push(event.reason);
      event.preventDefault();
    };
    addEventListener('unhandledrejection', hear);
    Reflect.set(remote, 'hello', 1);
    Reflect.set(remote, 'x', 1);
    await waitFor(() => dropped.length === 2 || undefined, 5000, 'the answers to both assignments');
    removeEventListener('unhandledrejection', hear);
    for (const reason of dropped) expect(reason).toMatchObject({ name: 'InvalidArgumentError', code: 'invalid_argument' });
    worker.port.start();
    const refused = { type: 'HANDLER', name: 'throw', value: { name: 'InvalidArgumentError', code: 'invalid_argument' } };
    for (const message of [
      { type: 'SET', path: ['hello'], value: { type: 'RAW', value: 1 } },
      { type: 'SET', path: ['x'], value: { type: 'RAW', value: 1 } },
      { type: 'SET', path: ['__proto__', 'polluted'], value: { type: 'RAW', value: 'yes' } },
      { type: 'SET', path: ['hello', '__proto__', 'call'], value: { type: 'RAW', value: 1 } },
      { type: 'GET', path: ['__proto__'] },
      { type: 'CONSTRUCT', path: ['hello', 'constructor'], argumentList: [{ type: 'RAW', value: code }] },
      { type: 'APPLY', path: ['hello', 'constructor'], argumentList: [{ type: 'RAW', value: code }] },
      { type: 'ENDPOINT' },
    ]) {
      expect(await raw(worker.port, message), JSON.stringify(message)).toMatchObject(refused);
    }

    // Nothing ran: the code the worker would have built posts on the side channel. Nothing else
    // posts there, so nothing can follow such a message to mark when it would have arrived: this
    // takes a second of quiet.
    await quietFor(1000, 'a message on the side channel', () => side.heard.length > 0);
    expect(side.heard).toEqual([]);
    side.close();

    // hello is still the worker's (the assignment did not replace it), and an operation by its own
    // name answers this page as it answers a tab.
    expect(((await at(remote, 'stats')(null)) as { tabs: number }).tabs).toBeGreaterThanOrEqual(1);

    // A DPoP proof is signed only for a URL this port's tokens.fetch may send the token to: the
    // page's origin and the fetchOrigins of its hello. Another is refused before the engine is asked;
    // one that may be is handed to the engine (which, for this Clerk manager, has no key to sign with).
    await at(remote, 'hello')({ tabId: 'hostile-page', config, sessionId: null, visible: false, fetchOrigins: ['https://api.example.com'] });
    const proof = (htu: string) =>
      at(
        remote,
        'proof',
      )({ htm: 'GET', htu, token, nonce: null }).then(
        () => null,
        (e: { code?: string; message?: string }) => e,
      );
    for (const htu of ['https://evil.example/steal', `${location.origin}.evil.example/x`, `https://user@evil.example/x`, 'javascript:alert(1)']) {
      expect(await proof(htu), htu).toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/^proof htu must be /) });
    }
    for (const htu of [`${location.origin}/api/me`, 'https://api.example.com/v1/orders']) {
      expect(await proof(htu), htu).toMatchObject({ code: 'invalid_argument', message: 'proof() needs oidc' });
    }

    // The tabs keep working.
    expect(await tab!.api.manager.getToken()).toBe(token);
    expect(await tab!.api.manager.getToken({ skipCache: true })).toBeTypeOf('string');
    expect((await tab!.api.manager.stats()).tabs).toBeGreaterThanOrEqual(1);
    expect(tab!.api.uncaught).toEqual([]);
    worker.port.close();
  });

  it('a local-mode leader answers an op that is not an operation with InvalidArgumentError, runs nothing, and keeps serving', { timeout: 60_000 }, async ({
    tabs,
  }) => {
    await signIn();
    const namespace = uniqueNamespace('hostile-rpc-op');
    const list = await tabs.open(1, { namespace, pollIntervalMs: 1000 }, { nosw: true });
    list.push(...(await tabs.open(1, { namespace, pollIntervalMs: 1000 }, { nosw: true })));
    const token = await list[1]!.api.manager.getToken();
    expect(token).toBeTypeOf('string');

    const { config } = validateManagerOptions({ namespace, pollIntervalMs: 1000 }, location.origin);
    const rpc = new BroadcastChannel(`${workerKey(config)}:rpc`);
    const replies = new Map<string, Record<string, unknown>>();
    rpc.onmessage = (event: MessageEvent) => {
      const data = event.data as Record<string, unknown>;
      if (data?.type === 'reply' && typeof data.id === 'string') replies.set(data.id, data);
    };
    const ops = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'bogus'];
    for (const op of ops)
      rpc.postMessage({ v: 1, type: 'request', id: `hostile-${op}`, tab: 'hostile-page', op, opts: 'new BroadcastChannel("x").postMessage(1)' });
    const answered = await waitFor(
      () => (ops.every((op) => replies.has(`hostile-${op}`)) ? ops.map((op) => replies.get(`hostile-${op}`)!) : undefined),
      5000,
      'a reply to every request',
    );
    for (const reply of answered) {
      expect(reply).toMatchObject({ v: 1, type: 'reply', error: { name: 'InvalidArgumentError', code: 'invalid_argument' } });
      expect(reply.result).toBeUndefined();
      expect(reply.jwt).toBeUndefined();
    }
    rpc.close();

    // The leader and its follower keep serving, and no tab saw an error.
    for (const tab of list) expect(await tab.api.manager.getToken()).toBe(token);
    expect((await list[1]!.api.manager.stats()).tabs).toBe(2);
    for (const tab of list) {
      expect(tab.api.uncaught).toEqual([]);
      expect(tab.api.events.filter((e) => e.type === 'error')).toEqual([]);
    }
  });
});
