import { tabLockName } from '../protocol/names.ts';

/**
 * Takes the Web Lock `tabtoken:tab:{id}` and holds it until `release()` or until the tab closes;
 * the engine waits on the same lock to learn that the tab is gone. Resolves once the lock is held,
 * so the tab can tell the engine when waiting on it is safe.
 */
export function holdTabLock(tabId: string): Promise<() => void> {
  return new Promise((granted) => {
    if (!globalThis.navigator?.locks) return granted(() => {});
    void navigator.locks.request(tabLockName(tabId), () => new Promise<void>((release) => granted(release)));
  });
}
