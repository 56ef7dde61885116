/**
 * Several "tabs" in one browser-mode test: same-origin iframes, each a separate JavaScript realm
 * running its own client and sharing the SharedWorker, channel and IndexedDB with the others.
 */
import type { GetTokenOptions, TokenManagerOptions } from '../../../client/index.ts';
import { validateManagerOptions } from '../../../client/options.ts';
import { workerKey, workerLockName } from '../../../protocol/names.ts';
import { waitFor } from '../../support/wait.ts';
import type { TabApi } from '../fixtures/tab.ts';

export { quietFor, repeatUntil, waitFor } from '../../support/wait.ts';

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

/** A namespace of its own per test, so workers, channels and stores never mix between tests. */
export function uniqueNamespace(label = 't'): string {
  return `${label}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * Waits until no SharedWorker of these options runs any more: a worker holds the Web Lock
 * `{worker key}:worker:{instance}` for its whole life (protocol/names.ts), so the lock's going
 * means the browser ended it — its last tab closed. A tab opened after that starts a new worker.
 */
export async function workerEnded(options: TokenManagerOptions, timeoutMs = 10_000): Promise<void> {
  const prefix = workerLockName(workerKey(validateManagerOptions(options, location.origin).config), '');
  await waitFor(async () => !(await navigator.locks.query()).held?.some((lock) => lock.name?.startsWith(prefix)), timeoutMs, `the worker of ${prefix}* to end`);
}

/** One read of every tab, side by side. */
export function readAll(tabs: readonly Tab[], options?: GetTokenOptions): Promise<(string | null)[]> {
  return Promise.all(tabs.map((t) => t.api.manager.getToken(options)));
}

/** The tabs a test opened, closed after it (the `tabs` fixture of `./fixtures.ts`). */
export class TabSet {
  readonly list: Tab[] = [];

  /** Opens `count` tabs side by side and waits until every manager is ready. */
  async open(count: number, options: TokenManagerOptions, flags: TabFlags = {}): Promise<Tab[]> {
    const tabs = await openTabs(count, options, flags);
    this.list.push(...tabs);
    await Promise.all(tabs.map((t) => t.api.manager.ready));
    return tabs;
  }

  /** Opens one tab without waiting for its manager, whose `ready` may be what the test is about. */
  async openUnready(options: TokenManagerOptions, flags: TabFlags = {}): Promise<Tab> {
    const tab = await openTab(options, flags);
    this.list.push(tab);
    return tab;
  }

  closeAll(): void {
    for (const tab of this.list.splice(0)) tab.close();
  }
}
