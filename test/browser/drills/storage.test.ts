/**
 * Drill 9 — storage. Nothing of a token is ever written to localStorage, sessionStorage or
 * document.cookie by the library, in any tab realm, over a whole session of use (reads of several
 * keys, refreshes, an outage, a sign-out). And when IndexedDB cannot be used — its database
 * throwing on every transaction, an open blocked forever, or no `indexedDB` at all — the manager
 * still works, in memory, and says so in its snapshot (`storage: 'memory'`) and with an error event.
 */
import { describe, expect, onTestFinished } from 'vitest';
import { advanceOriginClock, control, signIn } from '../support/origin.ts';
import { defaultKey, endAllSessions } from '../support/drills.ts';
import { it } from '../support/fixtures.ts';
import { repeatUntil, uniqueNamespace, waitFor, type Tab } from '../support/tabs.ts';

const JWT = /eyJ[\w-]*\.eyJ[\w-]*\.[\w-]*/;

/** Everything a realm keeps in web storage and readable cookies, as one string. */
function webStorageOf(win: Window): string {
  const dump = (s: Storage) => JSON.stringify(Object.entries(s));
  return `${dump(win.localStorage)}|${dump(win.sessionStorage)}|${win.document.cookie}`;
}

function dbName(namespace: string): string {
  return `tabtoken:v1:${namespace}:${location.origin}`;
}

function openDb(name: string, version?: number, upgrade?: (db: IDBDatabase) => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = version === undefined ? indexedDB.open(name) : indexedDB.open(name, version);
    request.onupgradeneeded = () => upgrade?.(request.result);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function expectMemoryAndWorking(list: Tab[], sessionId: string): Promise<void> {
  for (const tab of list) {
    expect(tab.api.manager.getSnapshot().storage).toBe('memory');
    expect(tab.api.manager.getSnapshot().sessionId).toBe(sessionId);
    expect(await tab.api.manager.getToken()).toMatch(JWT);
  }
}

describe('drill 9: storage', () => {
  it('a whole session of use writes nothing of a token to localStorage, sessionStorage or document.cookie in any tab realm', { timeout: 60_000 }, async ({
    tabs,
  }) => {
    await control('/__origin/config', { tokenLifetimeSeconds: 20 });
    await endAllSessions();
    const sessionId = await signIn();
    const shared = await tabs.open(3, { namespace: uniqueNamespace('st-shared'), pollIntervalMs: 1000 }, { spy: true });
    const local = await tabs.open(2, { namespace: uniqueNamespace('st-local'), pollIntervalMs: 1000 }, { spy: true, nosw: true });
    const list = [...shared, ...local];
    const seen = new Set<string>();
    const read = async () => {
      for (const tab of list) {
        for (const options of [undefined, { template: 'api' }, { template: 'short' }, { expiresInSeconds: 60 }]) {
          const jwt = await tab.api.manager.getToken(options);
          if (jwt) seen.add(jwt);
        }
        await tab.api.manager.fetch('/v1/client');
      }
    };
    await read();
    // A refresh cycle (20 s tokens are stale after 5 s), a forced refresh, a short outage.
    await repeatUntil(Date.now() + 6500, 250, read);
    await shared[0]!.api.manager.getToken({ skipCache: true });
    await control('/__origin/outage', { mode: 'down' });
    await read();
    await control('/__origin/outage', { mode: 'missing_expired_token' });
    await advanceOriginClock(1000);
    const remint = await local[1]!.api.manager.getToken({ skipCache: true });
    if (remint) seen.add(remint);
    await control('/__origin/outage', { mode: 'off' });
    await read();
    for (const tab of list) for (const e of tab.api.events) if (e.type === 'token') seen.add((e.detail as { jwt: string }).jwt);
    await shared[1]!.api.manager.signOut();
    await local[0]!.api.manager.signOut();
    expect(seen.size).toBeGreaterThanOrEqual(6);
    expect(sessionId).toMatch(/^sess_/);

    for (const tab of list) {
      // Not one write by anyone in the tab's realm, and nothing token-like left in it.
      expect(tab.api.writes).toEqual([]);
      const kept = webStorageOf(tab.frame.contentWindow!);
      expect(kept).not.toMatch(JWT);
      for (const jwt of seen) {
        expect(kept).not.toContain(jwt);
        expect(kept).not.toContain(jwt.split('.')[2]!);
      }
    }
    // The test page's realm (it shares both storages and the cookie jar with the tabs).
    const page = webStorageOf(window);
    for (const jwt of seen) expect(page).not.toContain(jwt.split('.')[2]!);
    console.info('[drill 9] tokens seen', seen.size, 'writes to web storage or document.cookie: 0');
  });

  it('the library sources name neither web storage nor cookies: the worker realm cannot write them either', () => {
    const sources = import.meta.glob(['/worker/**/*.ts', '/client/**/*.ts', '/protocol/**/*.ts'], { query: '?raw', import: 'default', eager: true }) as Record<
      string,
      string
    >;
    expect(Object.keys(sources).length).toBeGreaterThan(20);
    for (const [file, text] of Object.entries(sources)) {
      // Comments may say what is not used; code may not use it.
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      expect(code, file).not.toMatch(/\b(localStorage|sessionStorage|cookieStore)\b|document\.cookie/);
    }
  });

  it('a database whose object store is missing makes every transaction throw: the tabs work in memory and say so', async ({ tabs }) => {
    await endAllSessions();
    const sessionId = await signIn();
    const namespace = uniqueNamespace('st-broken');
    // Version 1 of the library's database, without the `tokens` store idb-keyval expects.
    const db = await openDb(dbName(namespace), 1, (d) => d.createObjectStore('other'));
    db.close();
    onTestFinished(() => void indexedDB.deleteDatabase(dbName(namespace)));
    const list = await tabs.open(3, { namespace, pollIntervalMs: 1000 });
    await expectMemoryAndWorking(list, sessionId);
    for (const tab of list) {
      await waitFor(() => tab.api.events.some((e) => e.type === 'status' || e.type === 'error'), 2000, 'the failure to be reported');
    }
    expect(list.some((t) => t.api.events.some((e) => e.type === 'error'))).toBe(true);
    // Reads, a forced refresh and a sign-out all work in memory.
    const next = await list[1]!.api.manager.getToken({ skipCache: true });
    for (const tab of list) await waitFor(() => tab.api.manager.peekToken() === next, 2000, 'the new token in every tab');
    await list[2]!.api.manager.signOut();
    for (const tab of list) await waitFor(() => tab.api.manager.getSnapshot().status === 'signed-out', 2000, 'signed out');
  });

  it('an IndexedDB open that stays blocked does not hold ready: the worker gives up on it and works in memory', async ({ tabs }) => {
    await endAllSessions();
    const sessionId = await signIn();
    const namespace = uniqueNamespace('st-blocked');
    const name = dbName(namespace);
    // A connection that ignores versionchange, and a deletion queued behind it: every later open waits.
    const holder = await openDb(name, 1, (d) => d.createObjectStore('tokens'));
    holder.onversionchange = null;
    const deletion = indexedDB.deleteDatabase(name);
    onTestFinished(() => holder.close());
    const started = Date.now();
    const list = await tabs.open(2, { namespace, pollIntervalMs: 1000 });
    const readyIn = Date.now() - started;
    await expectMemoryAndWorking(list, sessionId);
    expect(readyIn).toBeLessThan(8000);
    holder.close();
    await new Promise((resolve) => {
      deletion.onsuccess = resolve;
      deletion.onerror = resolve;
    });
    // Still in memory afterwards: the engine does not flip back to a store it gave up on.
    expect(list[0]!.api.manager.getSnapshot().storage).toBe('memory');
    expect(await list[1]!.api.manager.getToken()).toMatch(JWT);
    console.info('[drill 9] blocked IndexedDB: ready in', readyIn, 'ms, in memory');
  });

  it('without indexedDB at all, local-mode tabs elect a leader that works in memory and says so', async ({ tabs }) => {
    await endAllSessions();
    const sessionId = await signIn();
    const namespace = uniqueNamespace('st-noidb');
    const list = await tabs.open(1, { namespace, pollIntervalMs: 1000 }, { nosw: true, noidb: true });
    list.push(...(await tabs.open(2, { namespace, pollIntervalMs: 1000 }, { nosw: true, noidb: true })));
    expect(typeof (list[0]!.frame.contentWindow as unknown as { indexedDB?: unknown }).indexedDB).toBe('undefined');
    await expectMemoryAndWorking(list, sessionId);
    for (const tab of list) expect(tab.api.manager.getSnapshot().mode).toBe('local');
    const next = await list[2]!.api.manager.getToken({ skipCache: true });
    for (const tab of list) await waitFor(() => tab.api.manager.peekToken() === next, 2000, 'the new token in every tab');
    expect(list[0]!.api.manager.getSnapshot().tokens[defaultKey(sessionId)]?.jwt).toBe(next);
    // The leader leaves: the next one starts without IndexedDB too, and says so.
    list[0]!.close();
    await advanceOriginClock(1000);
    const after = await list[1]!.api.manager.getToken({ skipCache: true });
    expect(after).toMatch(JWT);
    for (const tab of list.slice(1))
      await waitFor(() => tab.api.manager.getSnapshot().storage === 'memory' && tab.api.manager.peekToken() === after, 3000, 'the new leader in memory');
  });
});
