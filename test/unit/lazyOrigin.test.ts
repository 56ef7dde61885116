/**
 * The origin whose code loads on first use (the OpenID Connect adapter): before it has loaded only
 * `abortAll` answers (the engine can close first), the proxy is never a thenable (an async function
 * returns it), and once loaded every method runs on the adapter itself (its private fields).
 */
import { describe, expect, it } from 'vitest';
import type { TokenOrigin } from '../../engine/TokenOrigin.ts';
import { lazyOrigin } from '../../worker/lazyOrigin.ts';

class Adapter {
  readonly #secret = 'mine';
  readonly ready = Promise.resolve();
  aborted = 0;
  counters() {
    return { mints: 1, mint: 2, client: 3, end: 4, failed: 0, secret: this.#secret };
  }
  abortAll() {
    this.aborted++;
  }
}

describe('lazyOrigin', () => {
  it('before loading: its traits, abortAll does nothing, nothing else is there, and it is not a thenable', async () => {
    let load: (origin: TokenOrigin) => void = () => {};
    const origin = lazyOrigin(() => new Promise<TokenOrigin>((resolve) => (load = resolve)), { oneToken: true });
    expect(origin.traits).toEqual({ oneToken: true });
    expect(() => origin.abortAll()).not.toThrow();
    expect((origin as unknown as { readSessions?: unknown }).readSessions).toBeUndefined();
    expect((origin as unknown as { then?: unknown }).then).toBeUndefined();
    // An async function may return it: it resolves to the proxy itself.
    expect(await (async () => origin)()).toBe(origin);
    const adapter = new Adapter();
    load(adapter as unknown as TokenOrigin);
    await origin.ready;
    expect(origin.counters()).toMatchObject({ mints: 1, secret: 'mine' });
    origin.abortAll();
    expect(adapter.aborted).toBe(1);
    expect((origin as unknown as { then?: unknown }).then).toBeUndefined();
  });

  it('a load that fails, or an adapter whose own ready rejects, rejects ready', async () => {
    await expect(lazyOrigin(() => Promise.reject(new Error('chunk failed')), {}).ready).rejects.toThrow('chunk failed');
    const refusing = { ready: Promise.reject(new Error('refused')) } as unknown as TokenOrigin;
    await expect(lazyOrigin(async () => refusing, {}).ready).rejects.toThrow('refused');
  });
});
