/**
 * Local mode (no SharedWorker): the engine runs in the tab that holds the leader lock. This entry is
 * built separately and loaded with `import()` only when a tab needs it. The leader publishes every
 * change on the BroadcastChannel (as the SharedWorker does), announces itself with `hello`, and
 * answers followers' requests on the `:rpc` channel. Without Web Locks every tab runs its own
 * engine and publishes only to itself.
 */
import { PROTOCOL_VERSION } from '../protocol/constants.ts';
import { randomId } from '../protocol/randomId.ts';
import { InvalidArgumentError, serializeError, type SerializedError } from '../protocol/errors.ts';
import type { BroadcastMessage, RpcEvent, RpcReply, RpcRequest } from '../protocol/messages.ts';
import { invoke, isOperation, type Operation, type OperationContext, type Operations } from '../protocol/operations.ts';
import type { Engine, EngineConfig, Snapshot, TabHello, Welcome } from '../protocol/types.ts';
import { createEngine } from './createEngine.ts';
import { parseEngineConfig } from './engineConfig.ts';
import { TabRegistry, checkConfig, parseHello } from './TabRegistry.ts';

/** The engine in a leader tab, for its own tab and its followers. */
export interface LocalHost {
  readonly instance: string;
  readonly engine: Engine;
  hello(hello: TabHello): Promise<Welcome>;
  /** Runs an operation of the table for a tab (the leader's own, or a follower over `:rpc`). */
  run<K extends Operation>(tabId: string, op: K, arg: unknown): Promise<Operations[K][1]>;
  close(): void;
}

export interface LocalHostOptions {
  /** Where changes go: the BroadcastChannel (leader) or straight to the tab's mirror (no Web Locks). */
  publish: (message: BroadcastMessage) => void;
  /** The `:rpc` channel name when this tab leads others; null without Web Locks. */
  rpcName: string | null;
  /** Hears the engine's unawaited failures for the leader's own tab (followers get them on `:rpc`). */
  onError: (error: SerializedError) => void;
}

/**
 * A request that can be answered: its `op` is checked when it is answered, so that a name that is not
 * an operation (`constructor`, `__proto__`, `toString`) gets an `InvalidArgumentError` reply rather
 * than silence, and runs nothing.
 */
type Incoming = Omit<RpcRequest, 'op'> & { op: unknown };
function isRpcRequest(data: unknown): data is Incoming {
  if (typeof data !== 'object' || data === null) return false;
  const r = data as Record<string, unknown>;
  return r.v === PROTOCOL_VERSION && r.type === 'request' && typeof r.id === 'string' && r.id.length <= 64 && typeof r.tab === 'string' && r.tab.length <= 64;
}

/**
 * Starts the engine in this tab.
 *
 * @example
 * const host = startLocalHost(config, { publish: (m) => channel.postMessage(m), rpcName, onError });
 */
export function startLocalHost(given: EngineConfig, options: LocalHostOptions): LocalHost {
  // Parsed as every follower's hello is, so checkConfig compares like with like (key order included).
  const config = parseEngineConfig(given);
  const engine: Engine = createEngine(config);
  const instance = randomId();
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  const tabs = new TabRegistry(engine, locks);
  // The leader tab shares its followers' origin: its own is where their tokens.fetch sends tokens.
  const page = globalThis.location ? [globalThis.location.origin] : [];
  const context = (tabId: string): OperationContext => ({ engine, mode: 'local', origins: [...page, ...tabs.fetchOrigins(tabId)] });
  const snapshot = (): Snapshot => Object.freeze({ ...engine.snapshot(), mode: 'local' as const });
  const unsubscribe = engine.subscribe((change) => options.publish({ v: PROTOCOL_VERSION, instance, ...change }));
  const unhear = engine.onError((error) => {
    const wire = serializeError(error);
    options.onError(wire);
    rpc?.postMessage({ v: PROTOCOL_VERSION, type: 'event', instance, error: wire } satisfies RpcEvent);
  });

  const host: LocalHost = {
    instance,
    engine,
    async hello(message: TabHello): Promise<Welcome> {
      const hello = parseHello(message);
      checkConfig(config, hello.config, 'the leader tab');
      // A local-mode tab takes its lock before its hello: waiting on it now is safe.
      await tabs.admit(hello, Promise.resolve());
      return { instance, snapshot: snapshot() };
    },
    run: (tabId, op, arg) => invoke(context(tabId), op, arg),
    close() {
      unsubscribe();
      unhear();
      rpc?.close();
      engine.close();
    },
  };

  async function answer(request: Incoming): Promise<Omit<RpcReply, 'v' | 'type' | 'id' | 'instance'>> {
    if (request.op === 'hello') {
      const hello = request.opts as Partial<TabHello> | null;
      if (typeof hello !== 'object' || hello === null || hello.tabId !== request.tab) throw new InvalidArgumentError('Malformed hello');
      return { result: await host.hello(hello as TabHello) };
    }
    if (!isOperation(request.op)) throw new InvalidArgumentError(`${String(request.op).slice(0, 40)} is not an operation of the leader tab`);
    const result = await host.run(request.tab, request.op, request.opts);
    // SPEC 7: a token travels as `jwt`; every other result as `result`.
    return request.op === 'getToken' ? { jwt: result as string | null } : { result };
  }

  const rpc = options.rpcName ? new BroadcastChannel(options.rpcName) : null;
  if (rpc) {
    rpc.onmessage = (event: MessageEvent) => {
      if (!isRpcRequest(event.data)) return;
      const request = event.data;
      answer(request).then(
        (body) => rpc.postMessage({ v: PROTOCOL_VERSION, type: 'reply', id: request.id, instance, ...body } satisfies RpcReply),
        (error: unknown) => rpc.postMessage({ v: PROTOCOL_VERSION, type: 'reply', id: request.id, instance, error: serializeError(error) } satisfies RpcReply),
      );
    };
    // Announce the new leader once it knows its session, so followers re-point at it.
    void engine.ready.then(() => {
      const s = snapshot();
      options.publish({ v: PROTOCOL_VERSION, instance, version: s.version, type: 'hello', snapshot: s });
    });
  }
  return host;
}
