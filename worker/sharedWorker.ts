/**
 * The SharedWorker entry: the only file that touches `onconnect`. One worker per
 * `{namespace, origin}` owns the engine; each tab reaches it through comlink on its own port (the
 * worker's end is portServer.ts, which runs the operations of the table and nothing else) and
 * mirrors it through the BroadcastChannel, where every change of the engine is published.
 */
import { CONNECT_TIMEOUT_MS, PROTOCOL_VERSION } from '../protocol/constants.ts';
import { randomId } from '../protocol/randomId.ts';
import { workerKey } from '../protocol/names.ts';
import { InvalidArgumentError, serializeError, type SerializedError } from '../protocol/errors.ts';
import type { BroadcastMessage } from '../protocol/messages.ts';
import { OPERATIONS, invoke, type OperationContext } from '../protocol/operations.ts';
import type { Engine, EngineConfig, TabHello, Welcome } from '../protocol/types.ts';
import type { WorkerApi } from '../protocol/operations.ts';
import { createEngine } from './createEngine.ts';
import { serve, type PortApi } from './portServer.ts';
import { TabRegistry, checkConfig, parseHello } from './TabRegistry.ts';
import { holdEngineLock } from './engineLock.ts';

/** The engine, its channel and its tabs, created by the first tab's hello. */
interface Host {
  config: EngineConfig;
  engine: Engine;
  tabs: TabRegistry;
}

const instance = randomId();
/**
 * Started by the first hello, once this worker holds the engine lock and its own lock
 * (engineLock.ts). A tab waits on the worker's lock after its welcome: being granted it means the
 * worker died with the tab still open (the browser ended it, it crashed), and the tab starts a new
 * one. Every welcome waits for the host, so no tab can wait on the lock too early.
 */
let host: Promise<Host> | null = null;

async function startHost(config: EngineConfig): Promise<Host> {
  const key = workerKey(config);
  await holdEngineLock(key, instance);
  const engine = createEngine(config);
  const channel = new BroadcastChannel(key);
  engine.subscribe((change) => {
    const message: BroadcastMessage = { v: PROTOCOL_VERSION, instance, ...change };
    channel.postMessage(message);
  });
  const tabs = new TabRegistry(engine, navigator.locks);
  engine.onError((error) => tabs.notify(serializeError(error)));
  return { config, engine, tabs };
}

/**
 * The API one tab gets on its port: a table without a prototype (nothing inherited to reach, even
 * past the port's own refusal), whose operations run only after this port's hello.
 */
function tabApi(): WorkerApi {
  let tabId: string | null = null;
  /** Set by this port's hello: the engine, and where this tab's `tokens.fetch` may send a token. */
  let context: OperationContext | null = null;
  let reportHeld = () => {};
  const held = new Promise<void>((resolve) => {
    reportHeld = resolve;
    // A tab that never reports (it closed before its lock was granted) is waited on all the same.
    setTimeout(resolve, CONNECT_TIMEOUT_MS);
  });
  const api: Partial<WorkerApi> = Object.assign(Object.create(null) as object, {
    async hello(message: TabHello, onError?: (error: SerializedError) => void): Promise<Welcome> {
      const hello = parseHello(message);
      // Before any wait: a `bye` that follows the hello must find the tab.
      tabId = hello.tabId;
      host ??= startHost(hello.config);
      const h = await host;
      checkConfig(h.config, hello.config, 'the worker');
      // The worker shares the page's origin: its own is where the page's tokens.fetch sends tokens.
      context = { engine: h.engine, mode: 'shared', origins: [location.origin, ...hello.fetchOrigins] };
      // The tab asks for its lock as it says hello and reports `held` once it has it:
      //
      //   tab    request lock ─ hello ──────────────── granted ─ held ─────── (closes)
      //   worker             hello → welcome                      wait ──────► granted: drop tab
      await h.tabs.admit(hello, held, typeof onError === 'function' ? onError : null);
      return { instance, snapshot: await invoke(context, 'snapshot', null) };
    },
    held: () => reportHeld(),
    bye(id: string) {
      if (id === tabId) void host?.then((h) => h.tabs.drop(id));
    },
  });
  for (const op of OPERATIONS) {
    Object.assign(api, {
      [op]: (arg: unknown) => {
        if (!context) throw new InvalidArgumentError('No hello from this tab yet');
        return invoke(context, op, arg);
      },
    });
  }
  return api as WorkerApi;
}

// `connect` fires on the SharedWorkerGlobalScope, which the DOM typings here do not describe.
const scope: EventTarget = globalThis;
scope.addEventListener('connect', (event) => {
  const port = (event as MessageEvent).ports[0];
  if (port) serve(port, tabApi() as unknown as PortApi);
});
