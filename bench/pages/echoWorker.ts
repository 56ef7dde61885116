/**
 * The bare mechanism a new tab's first token is compared with (SPEC section 10): a trivial module
 * SharedWorker that answers every message on a port with the same message (and how many ports it has had). The new-tab benchmark
 * keeps it running from a warm tab, so a new tab's `new SharedWorker(echoUrl)` and first reply cost
 * what connecting to a running SharedWorker costs in that browser, with no library code on either side.
 */
const scope = globalThis as unknown as { onconnect: ((event: MessageEvent) => void) | null };

/** Ports connected so far: a reply of 1 means this worker started for that tab, not before it. */
let connections = 0;

scope.onconnect = (event: MessageEvent) => {
  const port = event.ports[0];
  if (!port) return;
  connections++;
  port.onmessage = (message: MessageEvent) => port.postMessage({ echo: message.data, connections });
};
