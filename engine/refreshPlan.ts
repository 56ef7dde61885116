/**
 * Which keys need a mint, as pure functions of the cache, the read log's view and the time
 * (SPEC 4). The engine asks these at every poll tick, when a tab becomes visible and when a
 * retry comes due; the answers start mints, nothing here does.
 */
import type { CacheEntry } from './engineState.ts';
import type { TrackedRead } from './ReadLog.ts';

/** Whether a key with `entry` (or none) is due for a refresh at leeway `leewayS`. */
export function withinLeeway(entry: Pick<CacheEntry, 'expiresAt'> | undefined, leewayS: number, now: number): boolean {
  return !entry || entry.expiresAt - now <= leewayS * 1000;
}

/**
 * Read keys of `sessionId` due for a refresh: something is cached and at most the largest reported
 * leeway is left. Keys with nothing cached are left to the tab that reads them: a key whose mint
 * failed must not be retried every tick without anyone asking.
 *
 * @example
 * dueReads(readLog.live(), state.tokens, 'sess_1', clock.now()) // [{ key: 'sess_1|api||', … }]
 */
export function dueReads(reads: readonly TrackedRead[], tokens: ReadonlyMap<string, CacheEntry>, sessionId: string, now: number): TrackedRead[] {
  const prefix = `${sessionId}|`;
  return reads.filter((read) => {
    const entry = read.key.startsWith(prefix) ? tokens.get(read.key) : undefined;
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
