/**
 * Tabs of the app in any engine: the test page of test/browser/fixtures/tab.html opened through the
 * engine-neutral driver, and what the suite asks of them and of the origin.
 */
import { waitInTab, type EngineProfile, type EngineTab } from '../../../dev/browsers/index.ts';
import { tabUrl, type TabFlags, type TabOptions } from '../drills/support.ts';

/**
 * Waits for the page's client (`window.tabtoken`, set by its module script, which may run after the
 * driver's navigation returned) and its `ready`; defines `drillTab()` in the page for the callbacks.
 */
export async function whenReady(tab: EngineTab): Promise<void> {
  await waitInTab(tab, () => 'tabtoken' in globalThis, undefined, { what: 'the page to load its client', timeoutMs: 30_000 });
  const outcome = await tab.evaluate(() => {
    Object.assign(globalThis, { drillTab: () => (globalThis as unknown as { tabtoken: unknown }).tabtoken });
    return drillTab().manager.ready.then(
      () => 'ready',
      (error: unknown) => `ready rejected: ${String(error)}`,
    );
  });
  if (outcome !== 'ready') throw new Error(outcome);
}

export async function openAppTab(profile: EngineProfile, base: string, options: TabOptions, flags: TabFlags = {}): Promise<EngineTab> {
  const tab = await profile.openTab(tabUrl(base, options, flags));
  await whenReady(tab);
  return tab;
}

export async function reloadAppTab(tab: EngineTab): Promise<void> {
  await tab.reload();
  await whenReady(tab);
}

/** Signs the profile in (a page of the origin posts the sign-in form); answers the session id. */
export async function signIn(profile: EngineProfile, base: string): Promise<string> {
  const tab = await profile.openTab(`${base}/v1/client`);
  try {
    const identifier = `engine-${Math.random().toString(36).slice(2, 8)}`;
    return await tab.evaluate(async (who) => {
      const res = await fetch('/v1/client/sign_ins', { method: 'POST', body: new URLSearchParams({ identifier: who }) });
      if (!res.ok) throw new Error(`sign-in answered ${res.status}`);
      return ((await res.json()) as { response: { id: string } }).response.id;
    }, identifier);
  } finally {
    await tab.close();
  }
}

export const getToken = (tab: EngineTab, options?: object): Promise<string | null> => tab.evaluate((o) => drillTab().manager.getToken(o), options);
export const peekToken = (tab: EngineTab): Promise<string | null> => tab.evaluate(() => drillTab().manager.peekToken());
export const snapshotOf = (tab: EngineTab) => tab.evaluate(() => drillTab().manager.getSnapshot());
export const statsOf = (tab: EngineTab) => tab.evaluate(() => drillTab().manager.stats());

/**
 * The namespace's IndexedDB store as the page sees it (every value, as JSON), read with the raw
 * API: only after the library opened it, since opening a database that does not exist creates it.
 */
export function storedValues(tab: EngineTab, namespace: string): Promise<string> {
  return tab.evaluate(
    (ns) =>
      new Promise<string>((resolve, reject) => {
        const open = indexedDB.open(`tabtoken:v1:${ns}:${location.origin}`);
        open.onerror = () => reject(open.error ?? new Error('indexedDB.open failed'));
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('tokens')) {
            db.close();
            resolve('[]');
            return;
          }
          const read = db.transaction('tokens', 'readonly').objectStore('tokens').getAll();
          read.onerror = () => reject(read.error ?? new Error('getAll failed'));
          read.onsuccess = () => {
            db.close();
            resolve(JSON.stringify(read.result));
          };
        };
      }),
    namespace,
  );
}
