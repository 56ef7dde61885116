/**
 * Servers of the Node-side tests: a handler on a free port, and the development origin on a real
 * HTTP server of its own (the origin tests, the engine tests, a token origin beside the Vite test server).
 * The origin inside the Vite test server is started by test/e2e/drills/support.ts.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOriginWith, type DevOrigin } from '../../origin/createDevOrigin.ts';
import type { DevOriginOptions } from '../../origin/options.ts';
import type { Route } from '../../origin/routes.ts';

export interface Listening {
  /** `http://{host}:{port}`. */
  base: string;
  server: Server;
  /** Closes the server and every connection still open on it. */
  close(): Promise<void>;
}

/** Serves `handler` on a free port of `host` (127.0.0.1 unless said otherwise). */
export async function listen(handler: RequestListener, host = '127.0.0.1'): Promise<Listening> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface RunningOrigin extends Listening {
  origin: DevOrigin;
}

/**
 * The development origin (`createDevOrigin(options)`, with `extra` routes as the benchmarks mount
 * them) on a free port of `o.host` (127.0.0.1 unless said otherwise).
 *
 * @example
 * const o = await serveOrigin({ faults: true });
 * await fetch(`${o.base}/__origin/stats`);
 * await o.close();
 */
export async function serveOrigin(options: DevOriginOptions = {}, o: { extra?: readonly Route[]; host?: string } = {}): Promise<RunningOrigin> {
  const origin = createOriginWith(options, o.extra ?? []);
  const served = await listen(origin, o.host);
  return { ...served, origin };
}
