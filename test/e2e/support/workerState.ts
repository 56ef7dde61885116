/**
 * What a real-tab test can see of a worker from outside it: whether it still runs (the Web Lock it
 * holds for its whole life) and the session record it stored in IndexedDB — the moments a test
 * waits for when it closes every tab, or when it needs the stored tokens to be there.
 */
import type { BrowserContext, Page } from 'playwright-core';
import type { EngineProfile, EngineTab } from '../../../dev/browsers/Engine.ts';
import { validateManagerOptions } from '../../../client/options.ts';
import { workerKey, workerLockName } from '../../../protocol/names.ts';
import { waitFor } from '../../support/wait.ts';

/**
 * The worker key of a manager made with `options` on a page of `base`, worked out as the library
 * does it: the name of its worker and database, and the stem of its locks.
 *
 * @example
 * keyOf({ namespace: 'n' }, 'http://127.0.0.1:5173') // 'tabtoken:v1:n:http://127.0.0.1:5173'
 */
export function keyOf(options: object, base: string): string {
  return workerKey(validateManagerOptions(options, base).config);
}

/**
 * A page of the origin that is no tab, opened at `url` in `where`: a playwright context (Chromium,
 * the drills) or a profile of the engine-neutral driver (dev/browsers/, every engine).
 */
async function originPage(where: BrowserContext | EngineProfile, url: string): Promise<Pick<EngineTab, 'evaluate' | 'close'>> {
  if ('openTab' in where) return where.openTab(url);
  const page = await where.newPage();
  await page.goto(url);
  return {
    evaluate: <R, A>(fn: (arg: A) => R | PromiseLike<R>, arg?: A) => page.evaluate<R, A | undefined>(fn as never, arg),
    close: () => page.close(),
  };
}

/**
 * Waits until no worker of the worker key `key` runs in `where` (a playwright context, or a profile
 * of the engine-neutral driver): a SharedWorker holds the Web Lock `{key}:worker:{instance}` for its
 * whole life (protocol/names.ts), so the lock's going means the browser ended it — its last tab
 * closed — and a tab opened after that starts a new worker. The locks are read from a page of the
 * origin that is no tab, `/__origin/stats` (a control route, which the development origin does not
 * count).
 *
 * @example
 * await Promise.all(pages.map((p) => p.close()));
 * await workerEnded(context, h.base, keyOf(options, h.base));
 */
export async function workerEnded(where: BrowserContext | EngineProfile, base: string, key: string, timeoutMs = 10_000): Promise<void> {
  const page = await originPage(where, `${base}/__origin/stats`);
  try {
    const prefix = workerLockName(key, '');
    await waitFor(
      () => page.evaluate(async (p) => !(await navigator.locks.query()).held?.some((lock) => lock.name?.startsWith(p)), prefix),
      timeoutMs,
      `the worker of ${key} to end`,
      50,
    );
  } finally {
    await page.close();
  }
}

/** The session record as the library keeps it (storage/IdbTokenStore.ts). */
export interface StoredSession {
  sessionId: string;
  tokens: Record<string, { jwt: string; expiresAt: number }>;
}

/**
 * The session record stored for the worker key `key` — the key `session` of the store `tokens` in
 * the database named after it — as `page` (a page of the origin) reads it; null while there is
 * none. A database that does not exist yet is not opened: opening it would create it without its
 * store, and the library's own open would then find no store to use.
 *
 * @example
 * await waitFor(async () => (await storedSession(page, key))?.tokens, 5000, 'the tokens to be stored');
 */
export function storedSession(page: Page, key: string): Promise<StoredSession | null> {
  return page.evaluate(async (name) => {
    if (!(await indexedDB.databases()).some((d) => d.name === name)) return null;
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open(name);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error ?? new Error('indexedDB.open failed'));
    });
    try {
      if (!db.objectStoreNames.contains('tokens')) return null;
      const read = db.transaction('tokens', 'readonly').objectStore('tokens').get('session') as IDBRequest<StoredSession | undefined>;
      return await new Promise<StoredSession | null>((resolve, reject) => {
        read.onsuccess = () => resolve(read.result ?? null);
        read.onerror = () => reject(read.error ?? new Error('get failed'));
      });
    } finally {
      db.close();
    }
  }, key);
}

/** Whether the record stored for `key` holds every one of `jwts`. */
export async function storedTokens(page: Page, key: string, jwts: readonly (string | null)[]): Promise<boolean> {
  const stored = Object.values((await storedSession(page, key))?.tokens ?? {}).map((entry) => entry.jwt);
  return jwts.every((jwt) => jwt !== null && stored.includes(jwt));
}
