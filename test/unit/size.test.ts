/**
 * Sizes are deterministic, so they are tested (SPEC section 10: esbuild-minified, gzip -9); the
 * benchmarks report them too. Code loaded on demand is measured as its own entry.
 */
import { describe, expect, it } from 'vitest';
import { BUDGETS, measureSizes } from '../../bench/size.mjs';

describe('bundle sizes', () => {
  it('the worker stays within its 15 KB budget, with jose verification outside it', async () => {
    const sizes = await measureSizes();
    expect(BUDGETS.worker).toBe(15 * 1024);
    expect(sizes.worker.gzip).toBeLessThanOrEqual(BUDGETS.worker);
    expect(sizes.worker.inputs.some((i) => i.path.includes('JwksVerifier'))).toBe(false);
  }, 60_000);

  it('the client entry stays within its 8.5 KB budget, comlink and every option check included, with the local-mode engine outside it', async () => {
    const sizes = await measureSizes();
    expect(BUDGETS.client).toBe(8.5 * 1024);
    expect(sizes.client.gzip).toBeLessThanOrEqual(BUDGETS.client);
    expect(sizes.client.inputs.some((i) => /LocalConnection|localEngine|TokenEngine/.test(i.path))).toBe(false);
  }, 60_000);
});
