/**
 * tabtoken on the app's own token endpoint (SPEC 13): one SharedWorker per origin is the only caller
 * of `tokenUrl`, under a Web Lock, and every tab reads from its mirror. Against the app's server each
 * read is `getToken()` followed by the protected API call through `tokens.fetch`, which retries a 401
 * once with a newer token; against better-auth each read is `getToken()`.
 */
import { createTokenManager } from 'tabtoken';
import type { EndpointContender, EndpointContenderParams, ReadOutcome, TokenServer } from './EndpointContender.ts';

export function createTabtokenEndpoint(params: EndpointContenderParams, server: TokenServer): EndpointContender {
  const tokens = createTokenManager({
    namespace: params.namespace.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64),
    endpoint: server === 'app' ? { tokenUrl: '/app/session/token', signOutUrl: '/app/session/logout' } : { tokenUrl: '/api/auth/token', method: 'GET' },
  });
  const read = async (): Promise<ReadOutcome> => {
    const token = await tokens.getToken();
    if (server === 'betterAuth') return { tokens: token === null ? [] : [token], apiStatus: null };
    const response = await tokens.fetch('/app/api/me', { cache: 'no-store' });
    await response.arrayBuffer();
    // After a 401 and its retry, the cached token is the one the retry used.
    const after = tokens.peekToken();
    return { tokens: [token, after].filter((t): t is string => t !== null), apiStatus: response.status };
  };
  return {
    ready: tokens.ready.then(() => undefined),
    read,
    signedOut: () => tokens.getSnapshot().status === 'signed-out',
    close: () => tokens.close(),
  };
}
