import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect } from 'vitest';
import { readStore } from './support/drills.ts';
import { it } from './support/fixtures.ts';
import { advanceOriginClock, control, sessionMints, signIn } from './support/origin.ts';
import { uniqueNamespace, workerEnded, type Tab, type TabSet } from './support/tabs.ts';

async function tab(tabs: TabSet, namespace: string): Promise<Tab> {
  const [t] = await tabs.open(1, { namespace });
  return t!;
}

/** Closes `open`, waits until the browser has ended their worker, and opens one tab on a new worker. */
async function restartWorker(tabs: TabSet, namespace: string, open: Tab[]): Promise<Tab> {
  for (const t of open) t.close();
  await workerEnded({ namespace });
  const fresh = await tab(tabs, namespace);
  // A new worker's mint count starts at 0.
  const { mints } = await fresh.api.manager.stats();
  if (mints !== 0) throw new Error(`the reopened tab reached a worker that already minted ${mints} tokens`);
  return fresh;
}

describe('persistence across a worker restart', () => {
  it('the worker restores its tokens from IndexedDB after a restart without a request while they are fresh', async ({ tabs }) => {
    const sessionId = await signIn();
    const namespace = uniqueNamespace('restore');
    const first = await tab(tabs, namespace);
    const jwt = await first.api.manager.getToken();
    const mints = await sessionMints(sessionId);
    const reopened = await restartWorker(tabs, namespace, [first]);
    expect(reopened.api.manager.getSnapshot().sessionId).toBe(sessionId);
    expect(reopened.api.manager.getSnapshot().storage).toBe('indexeddb');
    expect(reopened.api.manager.peekToken()).toBe(jwt);
    expect(await reopened.api.manager.getToken()).toBe(jwt);
    expect(await sessionMints(sessionId)).toBe(mints);
  });

  it('the outage retry works with the lastActiveToken restored from IndexedDB', async ({ tabs }) => {
    const sessionId = await signIn();
    const namespace = uniqueNamespace('outage-idb');
    const first = await tab(tabs, namespace);
    const original = (await first.api.manager.getToken()) as string;
    const reopened = await restartWorker(tabs, namespace, [first]);
    await control('/__origin/outage', { mode: 'missing_expired_token' });
    await advanceOriginClock(1000); // a new iat
    const remint = (await reopened.api.manager.getToken({ skipCache: true })) as string;
    expect(remint).not.toBe(original);
    expect(decodeJwt(remint).sid).toBe(sessionId);
    // Re-minted from the stored token: the original iat carries over.
    expect(decodeProtectedHeader(remint).oiat).toBe(decodeProtectedHeader(original).oiat);
    expect(reopened.api.manager.getSnapshot().status).toBe('ok');
  });

  it('with persist off nothing is stored and the snapshot says memory', async ({ tabs }) => {
    await signIn();
    const namespace = uniqueNamespace('memory');
    const [t] = (await tabs.open(1, { namespace, persist: false })) as [Tab];
    const jwt = (await t.api.manager.getToken()) as string;
    expect(t.api.manager.getSnapshot().storage).toBe('memory');
    const stored = await readStore(namespace);
    expect(stored).not.toContain(jwt);
  });
});
