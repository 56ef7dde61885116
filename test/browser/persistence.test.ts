import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { control, sessionMints, signIn } from './support/origin.ts';
import { openTab, sleep, uniqueNamespace, waitFor, type Tab } from './support/tabs.ts';

const opened: Tab[] = [];
async function tab(namespace: string): Promise<Tab> {
  const t = await openTab({ namespace });
  opened.push(t);
  await t.api.manager.ready;
  return t;
}

afterEach(async () => {
  for (const t of opened.splice(0)) t.close();
  await control('/__origin/reset');
});

/** Closes every tab and reopens one until it is served by a new worker (whose mint count starts at 0). */
async function restartWorker(namespace: string, tabs: Tab[]): Promise<Tab> {
  for (const t of tabs) t.close();
  return waitFor(async () => {
    await sleep(100);
    const fresh = await tab(namespace);
    if ((await fresh.api.manager.stats()).mints === 0) return fresh;
    fresh.close();
    return null;
  }, 10_000, 'a new worker');
}

describe('persistence across a worker restart', () => {
  it('the worker restores its tokens from IndexedDB after a restart without a request while they are fresh', async () => {
    const sessionId = await signIn();
    const namespace = uniqueNamespace('restore');
    const first = await tab(namespace);
    const jwt = await first.api.manager.getToken();
    const mints = await sessionMints(sessionId);
    const reopened = await restartWorker(namespace, [first]);
    expect(reopened.api.manager.getSnapshot().sessionId).toBe(sessionId);
    expect(reopened.api.manager.getSnapshot().storage).toBe('indexeddb');
    expect(reopened.api.manager.peekToken()).toBe(jwt);
    expect(await reopened.api.manager.getToken()).toBe(jwt);
    expect(await sessionMints(sessionId)).toBe(mints);
  });

  it('the outage retry works with the lastActiveToken restored from IndexedDB', async () => {
    const sessionId = await signIn();
    const namespace = uniqueNamespace('outage-idb');
    const first = await tab(namespace);
    const original = (await first.api.manager.getToken()) as string;
    const reopened = await restartWorker(namespace, [first]);
    await control('/__origin/outage', { mode: 'missing_expired_token' });
    await sleep(1100); // a new iat
    const remint = (await reopened.api.manager.getToken({ skipCache: true })) as string;
    expect(remint).not.toBe(original);
    expect(decodeJwt(remint).sid).toBe(sessionId);
    // Re-minted from the stored token: the original iat carries over.
    expect(decodeProtectedHeader(remint).oiat).toBe(decodeProtectedHeader(original).oiat);
    expect(reopened.api.manager.getSnapshot().status).toBe('ok');
  });

  it('with persist off nothing is stored and the snapshot says memory', async () => {
    await signIn();
    const namespace = uniqueNamespace('memory');
    const t = await openTab({ namespace, persist: false });
    opened.push(t);
    await t.api.manager.ready;
    const jwt = (await t.api.manager.getToken()) as string;
    expect(t.api.manager.getSnapshot().storage).toBe('memory');
    const { createStore, entries } = await import('idb-keyval');
    const stored = JSON.stringify(await entries(createStore(`tabtoken:v1:${namespace}:${location.origin}`, 'tokens')));
    expect(stored).not.toContain(jwt);
  });
});
