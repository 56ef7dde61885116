/**
 * What the reliability drills need beyond `tabs.ts` and `origin.ts`: the origin's mint log, the
 * backend API, a browser whose only session is the drill's own, and a look into IndexedDB.
 */
import { backend as backendAt, mintLog as mintLogAt, type MintRecord } from '../../support/originApi.ts';
import { control, stats } from './origin.ts';

/** One request of the frontend token routes, as `GET /__origin/log` lists it (the origin's own type). */
export type { MintRecord } from '../../support/originApi.ts';

export function mintLog(): Promise<MintRecord[]> {
  return mintLogAt('');
}

/**
 * Whether the origin has answered every mint request it received: each is counted in
 * `stats().requests.mint` as it arrives and written to the log once its answer is sent (the log
 * is read first, so a request that arrives between the two reads only makes this false).
 */
export async function mintsAnswered(): Promise<boolean> {
  const answered = (await mintLog()).length;
  return answered >= ((await stats()).requests.mint ?? 0);
}

/** `POST /__origin/faults` with any of its fields (the support's `control` names the path). */
export function faults(body: { latencyMs?: number; jitterMs?: number; errorRate?: number; status?: number; hostile?: string | null }): Promise<void> {
  return control('/__origin/faults', body);
}

/** A call to the backend API with the secret key. */
export function backend<T>(path: string, body?: object): Promise<{ status: number; body: T }> {
  return backendAt<T>('', path, body);
}

/** Ends every session this browser's client holds, so a sign-out leaves the browser signed out. */
export async function endAllSessions(): Promise<void> {
  const body = (await (await fetch('/v1/client')).json()) as { response: { sessions: { id: string }[] } | null };
  for (const s of body.response?.sessions ?? []) {
    const res = await fetch(`/v1/client/sessions/${s.id}/end`, { method: 'POST' });
    if (!res.ok) throw new Error(`ending ${s.id} answered ${res.status}`);
  }
}

/** Every key and value in the namespace's IndexedDB store, serialised, to search for a token. */
export async function readStore(namespace: string): Promise<string> {
  const { createStore, entries } = await import('idb-keyval');
  const store = createStore(`tabtoken:v1:${namespace}:${location.origin}`, 'tokens');
  return JSON.stringify(await entries(store));
}

/** The default token's cache key of a session. */
export function defaultKey(sessionId: string): string {
  return `${sessionId}|||`;
}

/** Whether `error` is a tabtoken error of this code (classes differ between realms, so by code and name). */
export function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
