/**
 * Server-side rendering runs an app's modules in Node, where there is no document: a token manager
 * created there starts nothing (no engine, no request, nothing that keeps the process alive) and
 * says why, while its snapshot stays usable for the server render.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionError, createTokenManager } from '../../client/index.ts';
import { nextTurn } from '../support/wait.ts';

describe('createTokenManager without a document (server-side rendering)', () => {
  it('starts nothing and rejects ready and getToken with a ConnectionError that says why', async () => {
    expect(typeof document).toBe('undefined');
    const requests: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (input: RequestInfo | URL) => {
      requests.push(String(input));
      throw new Error('no request is expected');
    }) as typeof fetch;
    try {
      const before = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
      const tokens = createTokenManager({ frontendApi: 'https://clerk.example.com' });
      expect(tokens.getSnapshot()).toMatchObject({ status: 'connecting', sessionId: null, tokens: {} });
      const error = await tokens.ready.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect(String((error as Error).message)).toMatch(/server-side rendering/);
      await expect(tokens.getToken()).rejects.toBeInstanceOf(ConnectionError);
      expect(tokens.peekToken()).toBeNull();
      // Once every microtask has run, nothing can make a request later unless a timer or a handle
      // is left open for it: so no request now and nothing open means no request ever.
      await nextTurn();
      expect(requests).toEqual([]);
      // Nothing left open: the channel is closed, no timer is pending.
      expect(process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length).toBeLessThanOrEqual(before);
      tokens.close();
    } finally {
      globalThis.fetch = realFetch;
    }
  });
});
