/**
 * The back/forward benchmark's tab (SPEC 10): tabtoken in shared mode, and beside it the bare
 * mechanism — a connection to the echo SharedWorker (bench/pages/echoWorker.ts). The page's first
 * `pageshow` listener, registered before anything else, times two things when the page is shown again
 * from the back/forward cache: the echo worker's reply to a message posted in that listener (the
 * bare mechanism's first round trip after the restore), and tabtoken's first `getToken()`, called
 * in the same listener. `bf.roundTrip()` times warm comlink round trips (`stats()`) in the same page.
 * Query: `ns` (namespace), `signin=1` (the first tab signs the browser in).
 */
import { createTokenManager, type TokenManager } from 'tabtoken';
import echoWorkerUrl from './echoWorker.ts?worker&url';
import { signIn } from './contenders/signIn.ts';

const now = (): number => performance.timeOrigin + performance.now();

/** One restore from the cache, as the page's first pageshow listener saw it (ms from the listener's start). */
export interface Restore {
  at: number;
  echoMs: number | null;
  tokenMs: number | null;
  jwt: string | null;
  error: string | null;
}

const restores: Restore[] = [];
let tokens: TokenManager | null = null;
let echo: SharedWorker | null = null;
let onEcho: (() => void) | null = null;

addEventListener('pageshow', (event) => {
  if (!event.persisted || !tokens || !echo) return;
  const at = now();
  const restore: Restore = { at, echoMs: null, tokenMs: null, jwt: null, error: null };
  restores.push(restore);
  onEcho = () => {
    restore.echoMs = now() - at;
  };
  echo.port.postMessage('restored');
  tokens.getToken().then(
    (jwt) => Object.assign(restore, { tokenMs: now() - at, jwt }),
    (error: unknown) => Object.assign(restore, { error: String(error) }),
  );
});

async function main(): Promise<void> {
  const query = new URLSearchParams(location.search);
  const namespace = query.get('ns') ?? 'bench-bf';
  if (query.get('signin') === '1') await signIn(namespace);
  echo = new SharedWorker(echoWorkerUrl, { type: 'module', name: `bench-echo:${namespace}` });
  const echoed = new Promise<void>((resolve) => {
    echo!.port.onmessage = () => {
      onEcho?.();
      onEcho = null;
      resolve();
    };
  });
  echo.port.postMessage('hello');
  tokens = createTokenManager({ namespace });
  await Promise.all([tokens.ready, echoed]);
  const first = await tokens.getToken();
  const manager = tokens;
  Object.assign(globalThis, {
    bf: {
      ready: first !== null,
      restores,
      /** The default token the tab holds now. */
      token: () => {
        const { sessionId, tokens: held } = manager.getSnapshot();
        return sessionId === null ? null : (held[`${sessionId}|||`]?.jwt ?? null);
      },
      /** The median of `count` warm comlink round trips (`stats()`), in ms. */
      async roundTrip(count: number): Promise<number> {
        const times: number[] = [];
        for (let i = 0; i < count; i++) {
          const start = now();
          await manager.stats();
          times.push(now() - start);
        }
        times.sort((a, b) => a - b);
        return times[Math.floor(times.length / 2)]!;
      },
    },
  });
}

main().catch((error: unknown) => Object.assign(globalThis, { bf: { error: String(error) } }));
