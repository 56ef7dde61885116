/**
 * What a demo tab keeps across its own reloads (signing in navigates the tab away and back): its id,
 * when it first loaded and the chart's history — so the signed-out stretch before the sign-in stays
 * on the chart. It is kept in sessionStorage, which holds no token: the samples carry counts and
 * statuses only. What is read back is checked like a message from another tab. Each token origin
 * has its own (`scope`): switching the tab to the other one starts its chart afresh.
 */
import { parseDemoMessage, type Sample } from './demoMessages.ts';

const KEY = 'tabtoken-demo:tab';
const keyOf = (scope: string) => (scope ? `${KEY}:${scope}` : KEY);

export interface TabMemory {
  id: string;
  since: number;
  samples: Sample[];
}

/**
 * @example
 * const memory = loadTabMemory('oidc'); // null on a first load, or when what is there does not parse
 */
export function loadTabMemory(scope = ''): TabMemory | null {
  try {
    const raw: unknown = JSON.parse(sessionStorage.getItem(keyOf(scope)) ?? 'null');
    if (typeof raw !== 'object' || raw === null) return null;
    const { id, since, samples } = raw as Record<string, unknown>;
    const parsed = parseDemoMessage({ v: 1, type: 'history', to: id, samples });
    if (parsed?.type !== 'history' || typeof since !== 'number' || !Number.isFinite(since) || since <= 0) return null;
    return { id: parsed.to, since, samples: parsed.samples };
  } catch {
    return null; // storage disabled, or not JSON
  }
}

/** Saves the tab's memory (on `pagehide`); a full or disabled storage only loses the chart's past. */
export function saveTabMemory(memory: TabMemory, scope = ''): void {
  try {
    sessionStorage.setItem(keyOf(scope), JSON.stringify(memory));
  } catch {
    // The chart starts afresh after the reload.
  }
}
