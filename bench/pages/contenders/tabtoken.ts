/**
 * tabtoken as an app uses it: `createTokenManager` from the public entry, default options but a
 * namespace per run. Local mode is what a browser without SharedWorker gets (`mode: 'auto'` falls
 * back), produced the way the library's own tests do: SharedWorker removed before the client starts.
 */
import { createTokenManager, type TokenManagerOptions } from 'tabtoken';
import type { Contender, ContenderParams } from './Contender.ts';

export interface TabtokenParams extends ContenderParams {
  local: boolean;
  /** A worker script other than the bundled one (the instrumented worker of the fan-out run). */
  workerUrl?: string;
}

export function createTabtoken(params: TabtokenParams): Contender {
  if (params.local) Reflect.deleteProperty(globalThis, 'SharedWorker');
  const options: TokenManagerOptions = { namespace: params.namespace };
  if (params.workerUrl) options.workerUrl = params.workerUrl;
  const tokens = createTokenManager(options);
  return {
    ready: tokens.ready,
    // The manager's own functions, not wrappers, so the latency figures time the library alone.
    read: tokens.getToken,
    peek: tokens.peekToken,
    roundTrip: tokens.stats,
    refresh: () => tokens.getToken({ skipCache: true }),
    onChange(listener) {
      let last: string | null = null;
      tokens.subscribe(() => {
        const snapshot = tokens.getSnapshot();
        const sessionId = snapshot.sessionId;
        // The default token's cache key, as SPEC section 2 defines it: `${sessionId}|||`.
        const token = sessionId === null ? undefined : snapshot.tokens[`${sessionId}|||`];
        if (token && token.jwt !== last) {
          last = token.jwt;
          listener(token.jwt);
        }
      });
    },
    close: () => tokens.close(),
  };
}
