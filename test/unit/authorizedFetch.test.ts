/**
 * `tokens.fetch`'s retry of a 401 (SPEC 5): with a token newer than the refused one — the cached
 * one when it changed meanwhile, so tabs that all meet a 401 at once cause one mint, not one each.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GetTokenOptions } from '../../protocol/types.ts';
import { authorizedFetch, type TokenSource } from '../../client/authorizedFetch.ts';

const PAGE = 'https://app.test';

function source(o: { tokens: string[]; cached: () => string | null }) {
  const asked: (GetTokenOptions | undefined)[] = [];
  const s: TokenSource = {
    getToken: async (options) => {
      asked.push(options);
      return o.tokens.shift() ?? null;
    },
    peekToken: o.cached,
    renew: async (refused) => {
      asked.push({ refused } as GetTokenOptions);
      return o.tokens.shift() ?? null;
    },
    isDpop: () => false,
    proof: async () => 'proof',
  };
  return { s, asked };
}

/** A server that refuses the first token it sees and accepts any other; records what it was sent. */
function server(refused: string) {
  const seen: (string | null)[] = [];
  vi.stubGlobal('location', { origin: PAGE });
  vi.stubGlobal('fetch', async (request: Request) => {
    const auth = request.headers.get('authorization');
    seen.push(auth);
    return new Response(null, { status: auth === `Bearer ${refused}` ? 401 : 200 });
  });
  return seen;
}

afterEach(() => vi.unstubAllGlobals());

describe('tokens.fetch on a 401', () => {
  it('retries with the cached token when a newer one arrived meanwhile, without asking for a mint', async () => {
    const seen = server('t1');
    const { s, asked } = source({ tokens: ['t1', 't2'], cached: () => 't2' });
    const response = await authorizedFetch(s, [], `${PAGE}/api/me`);
    expect(response.status).toBe(200);
    expect(seen).toEqual(['Bearer t1', 'Bearer t2']);
    // Served from the tab's own copy: no second ask at all.
    expect(asked).toEqual([undefined]);
  });

  it('asks the worker for a token newer than the refused one when the tab still holds the refused one', async () => {
    const seen = server('t1');
    const { s, asked } = source({ tokens: ['t1', 't2'], cached: () => 't1' });
    const response = await authorizedFetch(s, [], `${PAGE}/api/me`);
    expect(response.status).toBe(200);
    expect(seen).toEqual(['Bearer t1', 'Bearer t2']);
    expect(asked).toEqual([undefined, { refused: 't1' }]);
  });

  it('sends no token to another origin, and retries nothing there', async () => {
    const seen = server('t1');
    const { s, asked } = source({ tokens: ['t1'], cached: () => 't1' });
    await authorizedFetch(s, [], 'https://elsewhere.test/x');
    expect(seen).toEqual([null]);
    expect(asked).toEqual([]);
  });
});
