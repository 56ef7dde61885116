/**
 * A TCP proxy that a test can switch off and on, so "the provider is down" never loses the
 * provider's in-memory grants: the app talks to the proxy's port (it is the issuer), the provider
 * keeps running behind it. Bytes are piped unchanged, so the `Host` header the provider sees is the
 * proxy's own — which is what its endpoint URLs and DPoP `htu` checks are built from.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** How a stopped proxy treats a connection. */
export type ProxyDownMode =
  /** The port is closed: a connection is refused at once (`ECONNREFUSED`). */
  | 'refuse'
  /** The port accepts connections and never answers, as a provider behind a dead network path. */
  | 'hang';

/** A running {@link startProxy} proxy. */
export interface Proxy {
  /** `http://{host}:{port}`, fixed for the proxy's whole life. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Whether connections reach the target now. */
  readonly running: boolean;
  /** Connections accepted since the proxy was made (both modes). */
  readonly connections: number;
  /**
   * Takes the target out of reach: every open connection is dropped, and new ones are refused
   * (`'refuse'`, the default) or held unanswered (`'hang'`) until {@link Proxy.start}.
   */
  stop(mode?: ProxyDownMode): Promise<void>;
  /** Forwards again, on the same port. Resolves once the port forwards. */
  start(): Promise<void>;
  /** Stops for good and frees the port. */
  close(): Promise<void>;
}

/** Where a {@link startProxy} proxy sends its connections. */
export interface ProxyTarget {
  host: string;
  port: number;
}

function parseTarget(target: string | ProxyTarget): ProxyTarget {
  if (typeof target !== 'string') return target;
  const url = new URL(target);
  if (url.protocol !== 'http:') throw new TypeError(`startProxy forwards plain http only, not ${url.protocol}`);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a proxy on a free port of `host` (default 127.0.0.1) that forwards every connection to
 * `target`.
 *
 * @example
 * const proxy = await startProxy('http://127.0.0.1:4000');
 * await proxy.stop();   // the provider is unreachable; its grants live on
 * await proxy.start();  // back, on the same port
 * await proxy.close();
 */
export async function startProxy(target: string | ProxyTarget, options: { host?: string } = {}): Promise<Proxy> {
  const to = parseTarget(target);
  const host = options.host ?? '127.0.0.1';
  let mode: 'forward' | ProxyDownMode = 'forward';
  let connections = 0;
  const open = new Set<Socket>();

  const track = (socket: Socket): void => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };

  const server = createServer((client) => {
    connections += 1;
    track(client);
    // A client that resets its end must not take the proxy down with an unhandled error.
    client.on('error', () => client.destroy());
    if (mode !== 'forward') return; // 'hang': accepted, never answered
    const upstream = connect(to.port, to.host);
    track(upstream);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await listen(server, 0, host);
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const dropAll = (): void => {
    for (const socket of open) socket.destroy();
    open.clear();
  };

  return {
    url,
    host,
    port,
    get running() {
      return mode === 'forward';
    },
    get connections() {
      return connections;
    },
    async stop(downMode: ProxyDownMode = 'refuse') {
      mode = downMode;
      dropAll();
      if (downMode === 'refuse') await closeServer(server);
      else if (!server.listening) await listen(server, port, host);
    },
    async start() {
      dropAll(); // connections held by 'hang' were never forwarded: the client sees them fail
      mode = 'forward';
      if (server.listening) return;
      // The port was ours a moment ago; the kernel may take a moment to let it be bound again.
      for (let attempt = 0; ; attempt++) {
        try {
          await listen(server, port, host);
          return;
        } catch (error) {
          if (attempt >= 50 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
            throw new Error(`the proxy could not listen on ${url} again: ${(error as Error).message}`, { cause: error });
          }
          await sleep(20);
        }
      }
    },
    async close() {
      mode = 'refuse';
      dropAll();
      await closeServer(server);
    },
  };
}
