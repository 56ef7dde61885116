/**
 * Several "tabs" in one browser-mode test: same-origin iframes, each a separate JavaScript realm
 * running its own client and sharing the SharedWorker, channel and IndexedDB with the others.
 */
import type { TokenManagerOptions } from '../../../client/index.ts';
import type { TabApi } from '../fixtures/tab.ts';

export interface Tab {
  readonly api: TabApi;
  readonly frame: HTMLIFrameElement;
  close(): void;
}

export interface TabFlags {
  /** Remove SharedWorker from the tab before the client starts (local mode). */
  nosw?: boolean;
  /** Count the messages the tab posts to ports and channels. */
  count?: boolean;
  /** Remove `indexedDB` from the tab before the client starts. */
  noidb?: boolean;
  /** Record every write to localStorage, sessionStorage and document.cookie. */
  spy?: boolean;
}

export async function openTab(options: TokenManagerOptions = {}, flags: TabFlags = {}): Promise<Tab> {
  const query = new URLSearchParams({ opts: JSON.stringify(options) });
  if (flags.nosw) query.set('nosw', '1');
  if (flags.count) query.set('count', '1');
  if (flags.noidb) query.set('noidb', '1');
  if (flags.spy) query.set('spy', '1');
  const frame = document.createElement('iframe');
  frame.src = `/test/browser/fixtures/tab.html?${query}`;
  document.body.append(frame);
  const api = await waitFor(() => (frame.contentWindow as (Window & { tabtoken?: TabApi }) | null)?.tabtoken, 20_000, 'the tab to load');
  return { api, frame, close: () => frame.remove() };
}

export async function openTabs(count: number, options: TokenManagerOptions = {}, flags: TabFlags = {}): Promise<Tab[]> {
  return Promise.all(Array.from({ length: count }, () => openTab(options, flags)));
}

/** Polls `probe` until it returns something other than undefined/null/false. */
export async function waitFor<T>(probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A namespace of its own per test, so workers, channels and stores never mix between tests. */
export function uniqueNamespace(label = 't'): string {
  return `${label}-${Math.random().toString(36).slice(2, 10)}`;
}
