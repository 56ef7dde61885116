/**
 * The SharedWorker entry: the only file that touches `onconnect`. One worker per
 * `{namespace, origin}` owns the engine; each tab reaches it through comlink on its own port and
 * mirrors it through the BroadcastChannel, where every change of the engine is published.
 */
import * as Comlink from 'comlink';
import { CONNECT_TIMEOUT_MS, PROTOCOL_VERSION, channelName, randomId, tabLockName, workerLockName } from '../protocol/constants.ts';
import { InvalidArgumentError, serializeError, type SerializedError } from '../protocol/errors.ts';
import { installErrorTransfer } from '../protocol/errorTransfer.ts';
import type { BroadcastMessage } from '../protocol/messages.ts';
import type { Engine, EngineConfig, EngineStats, ReadReport, Snapshot, TabHello, TokenRequest, Welcome, WorkerApi } from '../protocol/types.ts';
import { isTokenRequest } from '../protocol/messages.ts';
import { configMismatch, parseEngineConfig, validateSessionId } from '../protocol/options.ts';
import { createEngine } from './TokenEngine.ts';

installErrorTransfer(Comlink.transferHandlers, serializeError);

/** The engine and its channel, created by the first tab's hello. */
interface Host {
  config: EngineConfig;
  engine: Engine;
  channel: BroadcastChannel;
}

const instance = randomId();
/**
 * Held for as long as this worker runs. A tab waits on it after its welcome: being granted it means
 * the worker died with the tab still open (the browser ended it, it crashed), and the tab starts a
 * new one. Every welcome waits until the lock is held, so no tab can wait on it too early.
 */
const alive = new Promise<void>((held) => {
  if (!navigator.locks) return held();
  void navigator.locks.request(workerLockName(instance), () => {
    held();
    return new Promise<never>(() => {});
  });
});
/** Live tabs, each with the callback that hears the engine's unawaited failures. */
const tabs = new Map<string, ((error: SerializedError) => void) | null>();
let host: Host | null = null;

function startHost(config: EngineConfig): Host {
  const engine = createEngine(config);
  const channel = new BroadcastChannel(channelName(config.namespace, new URL(config.frontendApi).origin));
  engine.subscribe((change) => {
    const message: BroadcastMessage = { v: PROTOCOL_VERSION, instance, ...change };
    channel.postMessage(message);
  });
  engine.onError((error) => {
    const wire = serializeError(error);
    for (const notify of tabs.values()) Promise.resolve(notify?.(wire)).catch(() => {});
  });
  return { config, engine, channel };
}

function currentSnapshot(engine: Engine): Snapshot {
  return Object.freeze({ ...engine.snapshot(), mode: 'shared' as const });
}

function requireHost(): Host {
  if (!host) throw new InvalidArgumentError('This tab has not said hello to the worker yet');
  return host;
}

function checkRequest(request: unknown): TokenRequest {
  if (!isTokenRequest(request)) throw new InvalidArgumentError('Malformed token request');
  return request;
}

function dropTab(tabId: string): void {
  if (tabs.delete(tabId)) host?.engine.setTabCount(tabs.size);
}

/** The API one tab gets on its port. */
function tabApi(): WorkerApi {
  let tabId: string | null = null;
  let reportHeld = () => {};
  const held = new Promise<void>((resolve) => {
    reportHeld = resolve;
    // A tab that never reports (it closed before its lock was granted) is waited on all the same.
    setTimeout(resolve, CONNECT_TIMEOUT_MS);
  });
  return {
    async hello(hello: TabHello, onError?: (error: SerializedError) => void): Promise<Welcome> {
      if (typeof hello?.tabId !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(hello.tabId)) throw new InvalidArgumentError('Malformed tab id');
      const config = parseEngineConfig(hello.config);
      if (host) {
        const option = configMismatch(host.config, config);
        if (option) {
          throw new InvalidArgumentError(`${option} differs from the value the worker was started with by the first tab; every tab of one namespace and origin must pass the same ${option}`);
        }
      } else {
        host = startHost(config);
      }
      const { engine } = host;
      tabId = hello.tabId;
      tabs.set(tabId, typeof onError === 'function' ? onError : null);
      engine.setTabCount(tabs.size);
      // The tab holds this lock for its lifetime: being granted it means the tab has closed (a
      // SharedWorker port has no close event). The tab asks for it as it says hello and reports
      // `held` once it has it; waiting on it before then could be granted at once.
      //
      //   tab    request lock ─ hello ──────────────── granted ─ held ─────── (closes)
      //   worker             hello → welcome                      wait ──────► granted: drop tab
      const id = tabId;
      void held.then(() => navigator.locks?.request(tabLockName(id), () => dropTab(id)));
      if (hello.sessionId !== null) {
        const sessionId = validateSessionId(hello.sessionId);
        if (engine.snapshot().sessionId !== sessionId) await engine.setActiveSession(sessionId);
      }
      await engine.ready;
      if (hello.visible) engine.visible();
      await alive;
      return { instance, snapshot: currentSnapshot(engine) };
    },
    getToken: (request: TokenRequest) => requireHost().engine.getToken(checkRequest(request)),
    refresh: (request: TokenRequest) => requireHost().engine.refresh(checkRequest(request)),
    noteReads(reads: ReadReport[]) {
      if (!Array.isArray(reads)) throw new InvalidArgumentError('Malformed read report');
      requireHost().engine.noteReads(reads.filter((r) => typeof r?.key === 'string' && isTokenRequest(r.request)));
    },
    visible: () => requireHost().engine.visible(),
    setActiveSession: (sessionId: string | null) => requireHost().engine.setActiveSession(sessionId),
    signOut: () => requireHost().engine.signOut(),
    stats: async (): Promise<EngineStats> => requireHost().engine.stats(),
    held: () => reportHeld(),
    bye(id: string) {
      if (id === tabId) dropTab(id);
    },
  };
}

// `connect` fires on the SharedWorkerGlobalScope, which the DOM typings here do not describe.
const scope: EventTarget = globalThis;
scope.addEventListener('connect', (event) => {
  const port = (event as MessageEvent).ports[0];
  if (!port) return;
  Comlink.expose(tabApi(), port);
});
