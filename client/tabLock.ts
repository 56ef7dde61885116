import { tabLockName } from '../protocol/constants.ts';

/**
 * Takes the Web Lock `tabtoken:tab:{id}` and holds it until `release()` or until the tab closes;
 * the engine waits on the same lock to learn that the tab is gone. Resolves once the lock is held,
 * so the engine never asks for it before the tab has it.
 */
export function holdTabLock(tabId: string): Promise<() => void> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (!locks) return Promise.resolve(() => {});
  return new Promise((granted) => {
    void locks.request(tabLockName(tabId), () => new Promise<void>((release) => granted(() => release())));
  });
}
