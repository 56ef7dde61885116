/**
 * The token meter of "This tab": how long the default token stays fresh (green), then stale but
 * served while a refresh runs (amber), then expired (red) — with its cache key and `expiresAt`,
 * read from the snapshot, and every other entry the snapshot holds. An opaque access token (an
 * OpenID provider's) says nothing of its lifetime: the meter is then drawn against the lifetime the
 * origin's answer gave, and the token is shown by its last four characters only.
 */
import { decodeJwt } from 'jose';
import { cacheKey, type Snapshot, type SnapshotToken } from 'tabtoken';

/** The cache key of the default token (no template, organisation or `expiresInSeconds`). */
export function defaultKey(sessionId: string): string {
  return cacheKey(sessionId);
}

/** The default token's entry in the snapshot, with its key. */
export function defaultEntry(snapshot: Snapshot): { key: string; entry: SnapshotToken } | null {
  if (!snapshot.sessionId) return null;
  const key = defaultKey(snapshot.sessionId);
  const entry = snapshot.tokens[key];
  return entry ? { key, entry } : null;
}

/** A token's lifetime, `exp − iat` in seconds; null when the token does not say. */
export function lifetimeSeconds(jwt: string): number | null {
  try {
    const { exp, iat } = decodeJwt(jwt);
    return typeof exp === 'number' && typeof iat === 'number' && exp > iat ? exp - iat : null;
  } catch {
    return null;
  }
}

export type Freshness = 'fresh' | 'stale' | 'expired';

export function freshness(entry: SnapshotToken, now: number): Freshness {
  return now < entry.staleAt ? 'fresh' : now < entry.expiresAt ? 'stale' : 'expired';
}

/** A clock time with milliseconds, and the epoch value the snapshot holds. */
export function formatTime(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

const byId = (id: string) => document.getElementById(id) as HTMLElement;

/**
 * Draws the meter and the cache rows.
 *
 * @example
 * renderTokenMeter(tokens.getSnapshot(), Date.now(), null);
 */
export function renderTokenMeter(snapshot: Snapshot, now: number, answeredLifetimeS: number | null): void {
  const found = defaultEntry(snapshot);
  const fresh = byId('meter-fresh');
  const stale = byId('meter-stale');
  const expired = byId('meter-expired');
  const state = byId('freshness');
  if (found) {
    const { key, entry } = found;
    const total = Math.max(1, (lifetimeSeconds(entry.jwt) ?? answeredLifetimeS ?? 60) * 1000);
    const kind = freshness(entry, now);
    const freshMs = Math.max(0, entry.staleAt - now);
    const staleMs = Math.max(0, entry.expiresAt - Math.max(now, entry.staleAt));
    fresh.style.width = `${Math.min(100, (100 * freshMs) / total)}%`;
    stale.style.width = `${Math.min(100, (100 * staleMs) / total)}%`;
    expired.style.width = kind === 'expired' ? '100%' : '0';
    state.textContent = kind;
    state.className = `freshness ${kind}`;
    byId('stale-in').textContent = `${(freshMs / 1000).toFixed(1)} s`;
    byId('expires-in').textContent = `${(Math.max(0, entry.expiresAt - now) / 1000).toFixed(1)} s`;
    byId('cache-key').textContent = key;
    byId('token-tail').textContent = `…${entry.jwt.slice(-4)} · ${entry.scheme ?? 'Bearer'}`;
    byId('expires-at').textContent = `${formatTime(entry.expiresAt)}  (${entry.expiresAt})`;
  } else {
    for (const bar of [fresh, stale, expired]) bar.style.width = '0';
    state.textContent = '';
    state.className = 'freshness';
    byId('stale-in').textContent = '—';
    byId('expires-in').textContent = '—';
    byId('cache-key').textContent = snapshot.sessionId ? `${defaultKey(snapshot.sessionId)} (no entry yet)` : '—';
    byId('token-tail').textContent = '—';
    byId('expires-at').textContent = '—';
  }
  renderOtherEntries(snapshot, found?.key ?? null, now);
}

/** Tokens minted with options (a template, an organisation, `expiresInSeconds`) have entries of their own. */
function renderOtherEntries(snapshot: Snapshot, skip: string | null, now: number): void {
  const list = byId('cache-entries');
  const rows = Object.entries(snapshot.tokens).filter(([key]) => key !== skip);
  list.replaceChildren(
    ...rows.map(([key, entry]) => {
      const li = document.createElement('li');
      const k = document.createElement('span');
      k.className = `mono ${freshness(entry, now)}`;
      k.textContent = key;
      const at = document.createElement('span');
      at.className = 'muted';
      at.textContent = `expiresAt ${formatTime(entry.expiresAt)}`;
      li.append(k, at);
      return li;
    }),
  );
  list.hidden = rows.length === 0;
}
