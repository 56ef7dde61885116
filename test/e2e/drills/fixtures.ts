/**
 * The `it` of the real-tab tests: `h`, the test server (Vite with the development origin) and a
 * Chromium, started once for the file; `context`, a browser context of the test's own — its own
 * cookie jar, SharedWorker and IndexedDB, so the origin sees a new browser — closed after the test,
 * and the origin reset once it is.
 *
 * @example
 * const it = drillTest();
 * it('…', async ({ h, context }) => {
 *   const page = await openTab(context, h.base, { namespace: 'n' });
 * });
 */
import type { BrowserContext } from 'playwright-core';
import { test } from 'vitest';
import { newContext, origin, startHarness, type Harness } from './support.ts';

export function drillTest(options: Parameters<typeof startHarness>[0] = {}) {
  return test
    .extend('h', { scope: 'file' }, async ({}, { onCleanup }): Promise<Harness> => {
      const h = await startHarness(options);
      onCleanup(() => h.close());
      return h;
    })
    .extend('context', async ({ h }, { onCleanup }): Promise<BrowserContext> => {
      const context = await newContext(h.browser);
      onCleanup(async () => {
        await context.close();
        await origin(h.base, '/__origin/reset', {});
      });
      return context;
    });
}
