/**
 * The bare mechanism as a contender: a new tab connects to the already-running echo SharedWorker
 * (bench/pages/echoWorker.ts) and its first reply is its "first token". Created the way tabtoken's
 * client creates its worker (a module SharedWorker with a name per namespace), so the two new-tab
 * figures differ only by what the library does.
 */
import type { Contender, ContenderParams } from './Contender.ts';

export function createEcho(params: ContenderParams, echoUrl: string): Contender {
  const worker = new SharedWorker(echoUrl, { type: 'module', name: `bench-echo:${params.namespace}` });
  let reply: string | null = null;
  const ready = new Promise<void>((resolve) => {
    worker.port.onmessage = (event: MessageEvent) => {
      const { connections } = event.data as { connections: number };
      // The page reads it after the timing: whether the worker was already running for this tab.
      Object.assign(globalThis, { echoConnections: connections });
      reply = String(connections);
      resolve();
    };
  });
  worker.port.postMessage('hello');
  return {
    ready,
    read: () => Promise.resolve(reply),
    close: () => worker.port.close(),
  };
}
