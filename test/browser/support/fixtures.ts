/**
 * The `it` of the browser tests. Every test runs against the one development origin mounted in the
 * test server, so each one leaves it as it found it:
 * - `tabs`: the tabs the test opens (`tabs.open(count, options, flags)`), closed after it;
 * - the origin is reset after every test (counters, log, outage, faults, lifetime, clock), once
 *   everything the test opened is closed: its tabs (fixture teardown) and whatever it closes with
 *   `onTestFinished` (managers, mounted apps), which run before the reset registered here.
 */
import { test } from 'vitest';
import { control } from './origin.ts';
import { TabSet } from './tabs.ts';

export const it = test
  .extend('resetOrigin', { auto: true }, async ({ onTestFinished }) => {
    // Registered first, so it runs last: the test's own onTestFinished clean-ups run newest first.
    onTestFinished(() => control('/__origin/reset'));
  })
  .extend('tabs', async ({}, { onCleanup }) => {
    const tabs = new TabSet();
    onCleanup(() => tabs.closeAll());
    return tabs;
  });
