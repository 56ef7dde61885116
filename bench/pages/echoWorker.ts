/**
 * The bare mechanism a new tab's first token is compared with (SPEC section 10): a trivial module
 * SharedWorker that answers every message on a port with the same message. The new-tab benchmark
 * keeps it running from a warm tab, so a new tab's `new SharedWorker(echoUrl)` and first reply cost
 * what connecting to a running SharedWorker costs in that browser, with no library code on either side.
 */
const scope = globalThis as unknown as { onconnect: ((event: MessageEvent) => void) | null };

scope.onconnect = (event: MessageEvent) => {
  const port = event.ports[0];
  if (!port) return;
  port.onmessage = (message: MessageEvent) => port.postMessage(message.data);
};
