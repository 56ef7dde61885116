/**
 * Bench tabs in any engine, through the engine-neutral driver of dev/browsers/ (reached
 * through the bench plugin's api, since it is TypeScript): a profile per run, tabs opened the same
 * way in every engine (a new top-level tab of the profile), and their figures read with `evaluate`.
 * The page tags its own requests with the run's id (its namespace) in a `bench_run` cookie.
 */
import { contenderUrl } from './tabs.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the tab until its first token (or, for a blank page, its start) or its error. */
export async function settledTab(tab, kind, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await tab.evaluate((k) => {
      const b = globalThis.bench;
      if (!b) return null;
      if (b.error) return { error: b.error };
      return (k === 'blank' ? b.createdAt > 0 : b.firstTokenAt) ? { ok: true } : null;
    }, kind);
    if (state?.error) throw new Error(`${kind} tab failed: ${state.error}`);
    if (state?.ok) return tab;
    if (Date.now() > deadline) throw new Error(`${kind} tab: no first token within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Opens one bench tab of a contender in `profile` and waits for its first token. */
export async function openEngineTab(profile, base, { timeoutMs = 60_000, ...tab }) {
  const opened = await profile.openTab(contenderUrl(base, tab));
  return settledTab(opened, tab.kind, timeoutMs);
}

/** `{ createdAt, constructedAt, readyAt, firstTokenAt, trace }` of a tab, on the page's clock. */
export function engineTabTimes(tab) {
  return tab.evaluate(() => {
    const { createdAt, constructedAt, readyAt, firstTokenAt, trace } = globalThis.bench;
    return { createdAt, constructedAt, readyAt, firstTokenAt, trace };
  });
}
