/**
 * The tab strip: one tile per open tab with its id, status, the last four characters of its token
 * and its reads. The colour is the status, so a sign-out or an outage is seen reaching every tab.
 */
import type { TabReport } from './demoMessages.ts';

const LABELS: Record<TabReport['status'], string> = { connecting: 'connecting', ok: 'ok', degraded: 'degraded', 'signed-out': 'signed out' };

/**
 * Redraws the strip; tiles are reused by tab id so a status change is a class change, not a flash.
 *
 * @example
 * renderTabStrip(document.getElementById('tab-strip')!, roster.list(), myId);
 */
export function renderTabStrip(root: HTMLElement, tabs: readonly TabReport[], selfId: string): void {
  const existing = new Map<string, HTMLElement>();
  for (const tile of root.querySelectorAll<HTMLElement>('.tile')) if (tile.dataset.tab) existing.set(tile.dataset.tab, tile);
  const wanted = new Set(tabs.map((t) => t.id));
  for (const [id, tile] of existing) if (!wanted.has(id)) tile.remove();
  tabs.forEach((tab, index) => {
    let tile = existing.get(tab.id);
    if (!tile) {
      tile = document.createElement('div');
      tile.dataset.tab = tab.id;
      tile.innerHTML =
        '<div class="tile-head"><b class="mono"></b><span class="tile-you"></span></div><div class="tile-status"></div><div class="tile-token mono"></div><div class="tile-reads"></div>';
    }
    tile.className = `tile ${tab.status}${tab.id === selfId ? ' self' : ''}`;
    tile.dataset.status = tab.status;
    const [head, status, token, reads] = tile.children as unknown as [HTMLElement, HTMLElement, HTMLElement, HTMLElement];
    (head.firstElementChild as HTMLElement).textContent = tab.id;
    (head.lastElementChild as HTMLElement).textContent = tab.id === selfId ? 'this tab' : '';
    status.textContent = LABELS[tab.status];
    token.textContent = tab.tokenTail ? `…${tab.tokenTail}` : '—';
    reads.textContent = `${tab.reads} reads`;
    if (root.children[index] !== tile) root.insertBefore(tile, root.children[index] ?? null);
  });
}
