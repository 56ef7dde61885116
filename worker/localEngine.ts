/**
 * Local mode (no SharedWorker): the engine runs in the tab that holds the leader lock. This entry is
 * built separately and loaded with `import()` only when a tab needs it. The leader publishes every
 * change on the BroadcastChannel (as the SharedWorker does), announces itself with `hello`, and
 * answers followers' requests on the `:rpc` channel. Without Web Locks every tab runs its own
 * engine and publishes only to itself.
 */
import { PROTOCOL_VERSION, randomId, tabLockName } from '../protocol/constants.ts';
import { InvalidArgumentError, serializeError, type SerializedError } from '../protocol/errors.ts';
import { isTokenRequest, type BroadcastMessage, type RpcEvent, type RpcReply, type RpcRequest } from '../protocol/messages.ts';
import { configMismatch, parseEngineConfig, validateSessionId } from '../protocol/options.ts';
import type { Engine, EngineConfig, ReadReport, Snapshot, TabHello, Welcome, WorkerApi } from '../protocol/types.ts';
import { createEngine } from './TokenEngine.ts';

/** The engine in a leader tab: the worker's surface (SPEC 6) for its own tab and its followers. */
export interface LocalHost extends Omit<WorkerApi, 'hello' | 'bye' | 'held'> {
  readonly instance: string;
  hello(hello: TabHello): Promise<Welcome>;
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

const OPS: readonly string[] = ['hello', 'getToken', 'refresh', 'noteReads', 'visible', 'setActiveSession', 'signOut', 'stats'];

function isRpcRequest(data: unknown): data is RpcRequest {
  if (typeof data !== 'object' || data === null) return false;
  const r = data as Record<string, unknown>;
  return r.v === PROTOCOL_VERSION && r.type === 'request' && typeof r.id === 'string' && r.id.length <= 64 &&
    typeof r.tab === 'string' && r.tab.length <= 64 && typeof r.op === 'string' && OPS.includes(r.op);
}

/**
 * Starts the engine in this tab.
 *
 * @example
 * const host = startLocalHost(config, { publish: (m) => channel.postMessage(m), rpcName });
 */
export function startLocalHost(config: EngineConfig, options: LocalHostOptions): LocalHost {
  const engine: Engine = createEngine(config);
  const instance = randomId();
  const tabs = new Set<string>();
  const snapshot = (): Snapshot => Object.freeze({ ...engine.snapshot(), mode: 'local' as const });
  const unsubscribe = engine.subscribe((change) => options.publish({ v: PROTOCOL_VERSION, instance, ...change }));
  const unhear = engine.onError((error) => {
    const wire = serializeError(error);
    options.onError(wire);
    rpc?.postMessage({ v: PROTOCOL_VERSION, type: 'event', instance, error: wire } satisfies RpcEvent);
  });

  const dropTab = (tabId: string) => {
    if (tabs.delete(tabId)) engine.setTabCount(tabs.size);
  };

  const host: LocalHost = {
    instance,
    async hello(hello: TabHello): Promise<Welcome> {
      const option = configMismatch(config, parseEngineConfig(hello.config));
      if (option) throw new InvalidArgumentError(`${option} differs from the value the leader tab was started with; every tab of one namespace and origin must pass the same ${option}`);
      if (!tabs.has(hello.tabId)) {
        tabs.add(hello.tabId);
        engine.setTabCount(tabs.size);
        if (typeof navigator !== 'undefined' && navigator.locks) void navigator.locks.request(tabLockName(hello.tabId), () => dropTab(hello.tabId));
      }
      if (hello.sessionId !== null && engine.snapshot().sessionId !== hello.sessionId) await engine.setActiveSession(validateSessionId(hello.sessionId));
      await engine.ready;
      if (hello.visible) engine.visible();
      return { instance, snapshot: snapshot() };
    },
    getToken: (request) => engine.getToken(request),
    refresh: (request) => engine.refresh(request),
    noteReads: (reads) => engine.noteReads(reads),
    visible: () => engine.visible(),
    setActiveSession: (sessionId) => engine.setActiveSession(sessionId),
    signOut: () => engine.signOut(),
    stats: async () => engine.stats(),
    close() {
      unsubscribe();
      unhear();
      rpc?.close();
      engine.close();
    },
  };

  async function dispatch(request: RpcRequest): Promise<Omit<RpcReply, 'v' | 'type' | 'id' | 'instance'>> {
    const opts = request.opts;
    switch (request.op) {
      case 'hello': {
        const hello = opts as TabHello;
        if (typeof hello !== 'object' || hello === null || typeof hello.tabId !== 'string' || hello.tabId !== request.tab) throw new InvalidArgumentError('Malformed hello');
        return { result: await host.hello({ tabId: hello.tabId, config: hello.config, sessionId: hello.sessionId ?? null, visible: hello.visible === true }) };
      }
      case 'getToken':
        if (!isTokenRequest(opts)) throw new InvalidArgumentError('Malformed token request');
        return { jwt: await engine.getToken(opts) };
      case 'refresh':
        if (isTokenRequest(opts)) engine.refresh(opts);
        return {};
      case 'noteReads':
        if (Array.isArray(opts)) engine.noteReads(opts.filter((r): r is ReadReport => typeof r?.key === 'string' && isTokenRequest(r.request)));
        return {};
      case 'visible':
        engine.visible();
        return {};
      case 'setActiveSession':
        await engine.setActiveSession(opts === null ? null : validateSessionId(opts));
        return {};
      case 'signOut':
        await engine.signOut();
        return {};
      case 'stats':
        return { result: engine.stats() };
    }
  }

  const rpc = options.rpcName ? new BroadcastChannel(options.rpcName) : null;
  if (rpc) {
    rpc.onmessage = (event: MessageEvent) => {
      if (!isRpcRequest(event.data)) return;
      const request = event.data;
      dispatch(request).then(
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
