/**
 * `npm start`'s OpenID provider: oidc-provider started beside the Vite server once it listens (its
 * port is only known then), with the server's own origin as the app origin and the demo's redirect
 * pages registered. It prints how to reach it, answers `GET /demo/oidc-config` with what a page
 * needs to create an OIDC manager, and stops with the server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger, Plugin, PreviewServer, ViteDevServer } from 'vite';
import type { RunningOidcProvider } from './startOidcProvider.ts';

export interface OidcProviderPluginOptions {
  /** Paths on the app's origin registered as redirect URIs; the first is the one `/demo/oidc-config` gives. Default `['/oidc/callback', '/']`. */
  redirectPaths?: string[];
  /** Paths registered as post-logout redirect URIs. Default `['/']`. */
  postLogoutPaths?: string[];
  /** Default 60, as the development origin's tokens: a person sees them refresh. */
  accessTokenTtlSeconds?: number;
  /** Default `'tabtoken-demo'`. */
  clientId?: string;
}

/** What `GET /demo/oidc-config` answers: the `oidc` option of `createTokenManager`, for the page's own host. */
export interface DemoOidcConfig {
  issuer: string;
  clientId: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  /** The DPoP-only resource route, for trying `tokens.fetch`. */
  resourceUrl: string | null;
}

/** The plugin, with the running provider reachable as `plugin.api.provider()` once the server listens. */
export interface OidcProviderPlugin extends Plugin {
  api: { provider(): RunningOidcProvider | null };
}

/**
 * Runs the OpenID provider beside a Vite dev or preview server.
 *
 * @example
 * // demo/vite.config.ts
 * export default defineConfig({ plugins: [devOrigin({ faults: true }), oidcProviderPlugin()] });
 */
export function oidcProviderPlugin(o: OidcProviderPluginOptions = {}): OidcProviderPlugin {
  const redirectPaths = o.redirectPaths ?? ['/oidc/callback', '/'];
  const postLogoutPaths = o.postLogoutPaths ?? ['/'];
  let running: RunningOidcProvider | null = null;
  let starting: Promise<RunningOidcProvider | null> | null = null;
  let registered: string[] = [];

  const attach = (server: ViteDevServer | PreviewServer, logger: Logger): void => {
    const http = server.httpServer;
    if (!http) return;
    http.once('listening', () => {
      const { port } = http.address() as AddressInfo;
      // A person may open the demo as 127.0.0.1 or as localhost: two origins, both registered.
      const origins = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
      registered = origins;
      starting = (async () => {
        const { startOidcProvider } = await import('./startOidcProvider.ts');
        const op = await startOidcProvider({
          appOrigins: origins,
          redirectUris: origins.flatMap((origin) => redirectPaths.map((path) => `${origin}${path}`)),
          postLogoutRedirectUris: origins.flatMap((origin) => postLogoutPaths.map((path) => `${origin}${path}`)),
          clientId: o.clientId ?? 'tabtoken-demo',
          accessTokenTtlSeconds: o.accessTokenTtlSeconds ?? 60,
        });
        running = op;
        logger.info(
          `  tabtoken: OpenID provider (oidc-provider) at ${op.issuer}: client ${op.clientId}, redirect URIs ${redirectPaths.join(', ')} on this origin, any login and password; DPoP resource route ${op.resource?.resourceUrl ?? 'off'}; the page's settings at /demo/oidc-config`,
        );
        return op;
      })().catch((error: unknown) => {
        logger.error(`  tabtoken: the OpenID provider did not start: ${error instanceof Error ? error.message : String(error)}`);
        return null;
      });
    });
    http.once('close', () => void starting?.then((op) => op?.stop()));
    server.middlewares.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
      if (req.method !== 'GET' || req.url !== '/demo/oidc-config') return next();
      void (starting ?? Promise.resolve(null)).then((op) => {
        res.setHeader('content-type', 'application/json');
        res.setHeader('cache-control', 'no-store');
        if (!op) {
          res.statusCode = 503;
          return res.end(JSON.stringify({ error: 'the OpenID provider is not running' }));
        }
        // The page's own origin when it is a registered one (the Host header says which), else the first.
        const asked = `http://${req.headers.host ?? ''}`;
        const origin = registered.includes(asked) ? asked : (registered[0] ?? asked);
        const body: DemoOidcConfig = {
          issuer: op.issuer,
          clientId: op.clientId,
          redirectUri: `${origin}${redirectPaths[0] ?? '/'}`,
          postLogoutRedirectUri: `${origin}${postLogoutPaths[0] ?? '/'}`,
          resourceUrl: op.resource?.resourceUrl ?? null,
        };
        res.end(JSON.stringify(body));
      });
    });
  };

  return {
    name: 'tabtoken:oidc-provider',
    api: { provider: () => running },
    configureServer(server) {
      attach(server, server.config.logger);
    },
    configurePreviewServer(server) {
      attach(server, server.config.logger);
    },
  };
}
