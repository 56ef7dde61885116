/**
 * The standalone development origin behind `npx tabtoken-origin --port N [--host H]`: the origin
 * alone on its own port, fault controls on, bound to 127.0.0.1 unless told otherwise. The default
 * secret key is public knowledge, so it is refused on any address another machine can reach. It
 * answers only requests whose `Host` names this machine, the host it listens on or an allowed
 * host, so a page of another site cannot reach it by DNS rebinding (see `AllowedHosts.ts`).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../protocol/errors.ts';
import { AllowedHosts } from './AllowedHosts.ts';
import { createDevOrigin, withHostCheck, type DevOrigin } from './createDevOrigin.ts';
import { isLoopbackHost } from './loopback.ts';
import { DEFAULT_SECRET_KEY } from './options.ts';

/** Port used when `--port` is not given. */
export const DEFAULT_PORT = 8787;
/** Address bound when `--host` is not given. */
export const DEFAULT_HOST = '127.0.0.1';

export interface StandaloneOptions {
  /** TCP port, 0..65535 (0 picks a free one); default 8787. */
  port?: number;
  /** Address to bind; default `127.0.0.1`. */
  host?: string;
  /** Environment to read `TABTOKEN_SECRET_KEY` from; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Origins of apps that call this origin from the browser (CORS with credentials); default none.
   * An app on another port is another origin: `http://localhost:5173` for a Vite dev server.
   */
  allowedOrigins?: string[];
  /**
   * Host names answered besides this machine's (`localhost`, `*.localhost`, loopback addresses) and
   * `host`: `app.test`, or `.app.test` for it and every name under it; default none. Any other
   * `Host` is answered 403 `host_not_allowed`.
   */
  allowHosts?: string[];
}

export interface StandaloneServer {
  /** Base URL of the origin, such as `http://127.0.0.1:8787`. */
  readonly url: string;
  readonly server: Server;
  readonly origin: DevOrigin;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** What a refused `Host` is told. */
const HOW_TO_ALLOW = 'To allow it, start tabtoken-origin with --allow-host NAME (allowHosts of startStandalone).';

/**
 * Starts the standalone origin. Rejects with `InvalidArgumentError` for a bad port or allowed host,
 * or for the default secret key on a non-loopback host (set `TABTOKEN_SECRET_KEY`).
 *
 * @example
 * const { url, close } = await startStandalone({ port: 0 });
 * // … use `${url}/v1/client` …
 * await close();
 */
export async function startStandalone(options: StandaloneOptions = {}): Promise<StandaloneServer> {
  const { port = DEFAULT_PORT, host = DEFAULT_HOST, env = process.env, allowedOrigins = [], allowHosts = [] } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError(`port must be an integer from 0 to 65535, got ${String(port)}`);
  if (typeof host !== 'string' || host === '') throw new InvalidArgumentError('host must be a non-empty string');
  // The host it listens on names this server too (`--host 192.168.1.5`, `--host devbox.lan`). An
  // address allowed this way, even 0.0.0.0, is safe: rebinding needs a name the attacker owns.
  const hosts = AllowedHosts.strict(allowHosts, 'allowHosts', HOW_TO_ALLOW).including(host);
  const secretKey = env.TABTOKEN_SECRET_KEY || DEFAULT_SECRET_KEY;
  if (secretKey === DEFAULT_SECRET_KEY && !isLoopbackHost(host)) {
    throw new InvalidArgumentError(
      `refusing to listen on ${host} with the default secret key ${DEFAULT_SECRET_KEY}: set TABTOKEN_SECRET_KEY, or bind a loopback address`,
    );
  }
  const origin = createDevOrigin({ secretKey, faults: true, allowedOrigins });
  const server = createServer(withHostCheck(origin, hosts));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${urlHost(host)}:${address.port}`,
    server,
    origin,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Where the CLI writes its lines. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

const USAGE =
  'usage: tabtoken-origin [--port N] [--host H] [--allow-origin ORIGIN ...] [--allow-host NAME ...]   (key: TABTOKEN_SECRET_KEY, default sk_test_tabtoken on loopback only)';

/**
 * The CLI without the process: parses the arguments, starts the server, prints its URL. Returns
 * exit code 1 with one clear line on `err` for anything wrong.
 *
 * @example
 * const { code, server } = await runCli(['--port', '0'], process.env, { out: console.log, err: console.error });
 */
export async function runCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  output: CliOutput,
): Promise<{ code: number; server: StandaloneServer | null }> {
  let values: {
    port?: string | undefined;
    host?: string | undefined;
    'allow-origin'?: string[] | undefined;
    'allow-host'?: string[] | undefined;
    help?: boolean | undefined;
  };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'allow-origin': { type: 'string', multiple: true },
        'allow-host': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    output.err(`tabtoken-origin: ${error instanceof Error ? error.message : String(error)}. ${USAGE}`);
    return { code: 1, server: null };
  }
  if (values.help) {
    output.out(USAGE);
    return { code: 0, server: null };
  }
  const port = values.port === undefined ? DEFAULT_PORT : /^[0-9]{1,5}$/.test(values.port) ? Number(values.port) : Number.NaN;
  try {
    const server = await startStandalone({
      port,
      host: values.host ?? DEFAULT_HOST,
      env,
      allowedOrigins: values['allow-origin'] ?? [],
      allowHosts: values['allow-host'] ?? [],
    });
    output.out(`tabtoken development origin listening on ${server.url}`);
    return { code: 0, server };
  } catch (error) {
    output.err(`tabtoken-origin: ${error instanceof Error ? error.message : String(error)}`);
    return { code: 1, server: null };
  }
}
