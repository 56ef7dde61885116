/**
 * Which keys need a mint, as pure functions of the cache, the reads and the time (SPEC 4). The
 * reducer asks these at every poll tick, when a tab becomes visible and when a flight fails; the
 * answers start mints, nothing here does.
 */
import { READ_WINDOW_MS } from '../protocol/constants.ts';
import type { CacheEntry, TrackedRead } from './state.ts';

/** Whether a key with `entry` (or none) is due for a refresh at leeway `leewayS`. */
export function withinLeeway(entry: Pick<CacheEntry, 'expiresAt'> | undefined, leewayS: number, now: number): boolean {
  return !entry || entry.expiresAt - now <= leewayS * 1000;
}

/** Whether a read was made within the read window. */
export const inWindow = (read: TrackedRead | undefined, now: number): read is TrackedRead => read !== undefined && now - read.lastReadAt <= READ_WINDOW_MS;

/**
 * Read keys of `sessionId` due for a refresh: read within the window, not blocked, something is
 * cached and at most the largest reported leeway is left. Keys with nothing cached are left to the
 * tab that reads them: a key whose mint failed must not be retried every tick without anyone asking.
 *
 * @example
 * dueReads(state.reads, state.blocked, state.tokens, 'sess_1', now) // [['sess_1|api||', read]]
 */
export function dueReads(
  reads: ReadonlyMap<string, TrackedRead>,
  blocked: ReadonlySet<string>,
  tokens: ReadonlyMap<string, CacheEntry>,
  sessionId: string,
  now: number,
): [string, TrackedRead][] {
  const prefix = `${sessionId}|`;
  return [...reads].filter(([key, read]) => {
    const entry = key.startsWith(prefix) && !blocked.has(key) && inWindow(read, now) ? tokens.get(key) : undefined;
    return entry !== undefined && withinLeeway(entry, read.leewayS, now);
  });
}

/** Keys to drop: expired, not the default token, and nobody has read them for the read window. */
export function sweepable(tokens: ReadonlyMap<string, CacheEntry>, defaultKey: string | null, now: number, isRead: (key: string) => boolean): string[] {
  const out: string[] = [];
  for (const [key, entry] of tokens) if (key !== defaultKey && entry.expiresAt <= now && !isRead(key)) out.push(key);
  return out;
}

/**
 * Whether a mint that failed with an outage is still worth retrying in the background: someone
 * waits for it, it is the default token, something is cached for it, or tabs read it.
 */
export function worthRetrying(o: { waiters: number; isDefault: boolean; cached: boolean; read: boolean }): boolean {
  return o.waiters > 0 || o.isDefault || o.cached || o.read;
}
