/**
 * The demo: one tab's view of tabtoken, and a picture of all of them. Everything about tokens comes
 * from the public `tabtoken` entry; the tab strip and the chart's tabs and reads come from the
 * demo's own BroadcastChannel; the mints come from the development origin's log.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createTokenManager, TokenError, type GetTokenOptions, type Snapshot } from 'tabtoken';
import { ActivityChart } from './activityChart.ts';
import { ActivityHistory } from './ActivityHistory.ts';
import { DemoChannel } from './DemoChannel.ts';
import { HISTORY_WINDOW_MS, MAX_SAMPLES, type TabReport } from './demoMessages.ts';
import { OriginLog, readOriginCounters, type OriginWindow } from './originActivity.ts';
import { TabRoster } from './TabRoster.ts';
import { loadTabMemory, saveTabMemory } from './tabMemory.ts';
import { renderTabStrip } from './tabStrip.ts';
import { defaultEntry, lifetimeSeconds, renderTokenMeter } from './tokenMeter.ts';

const tokens = createTokenManager({ pollIntervalMs: 1000 });

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const seen = new Set<string>();

/** Four base-36 characters: short enough for a tile, unlikely to repeat among a few dozen tabs. */
function shortId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (b) => (b % 36).toString(36)).join('');
}

const memory = loadTabMemory();
const tabId = memory?.id ?? shortId();
const loadedAt = memory?.since ?? Date.now();
const roster = new TabRoster();
const history = new ActivityHistory();
if (memory) history.adopt(memory.samples);
addEventListener('pagehide', () => saveTabMemory({ id: tabId, since: loadedAt, samples: [...history.samples()].slice(-MAX_SAMPLES) }));
const originLog = new OriginLog();
let origin: OriginWindow = { mints: [], refused: [] };
let reads = 0;
let readsPerSec = 0;
/** This tab's read counts of the last few ticks: the rate is taken over about three seconds, so it does not jitter with the timers. */
const readCounts: { t: number; total: number }[] = [{ t: Date.now(), total: 0 }];
let tabsOpen = 0;

function log(type: string, text: string): void {
  const li = document.createElement('li');
  const time = new Date().toLocaleTimeString([], { hour12: false }) + '.' + String(Date.now() % 1000).padStart(3, '0');
  li.innerHTML = `<span></span><span class="t-${type}"></span><span></span>`;
  const [at, kind, detail] = li.children as unknown as [HTMLElement, HTMLElement, HTMLElement];
  at.textContent = time;
  kind.textContent = type;
  detail.textContent = text;
  $('timeline').prepend(li);
  while ($('timeline').children.length > 200) $('timeline').lastElementChild?.remove();
}

function describeError(error: unknown): string {
  if (error instanceof TokenError) {
    const status = 'status' in error ? ` ${String((error as { status: unknown }).status)}` : '';
    return `${error.name} (${error.code}${status}): ${error.message}`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function decode(jwt: string): string {
  return JSON.stringify({ header: decodeProtectedHeader(jwt), claims: decodeJwt(jwt) }, null, 2);
}

/** This tab as its tile shows it, in every tab. */
function myReport(): TabReport {
  const snapshot = tokens.getSnapshot();
  const tail = (defaultEntry(snapshot)?.entry.jwt ?? '').slice(-4);
  return {
    id: tabId,
    since: loadedAt,
    status: snapshot.status,
    tokenTail: /^[A-Za-z0-9_-]{0,4}$/.test(tail) ? tail : '',
    reads,
    readsPerSec,
    visible: document.visibilityState === 'visible',
  };
}

function sample(): void {
  const snapshot = tokens.getSnapshot();
  const found = defaultEntry(snapshot);
  history.add({
    t: Date.now(),
    tabs: tabsOpen || roster.list().length,
    readsPerSec: roster.readsPerSec(),
    status: snapshot.status,
    lifetimeS: found ? lifetimeSeconds(found.entry.jwt) : null,
  });
}

const chart = new ActivityChart($('chart-mints'), $('chart-tabs'));
let drawQueued = false;
/** Draws on the next frame, so a burst of reports is one redraw; a hidden tab draws nothing until seen. */
function scheduleDraw(): void {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    const tabs = roster.list();
    renderTabStrip($('tab-strip'), tabs, tabId);
    chart.update({ now: Date.now(), samples: history.samples(), mints: origin.mints, refused: origin.refused });
  });
}

const channel = new DemoChannel({ roster, history, report: myReport, onChange: scheduleDraw });

function render(): void {
  const snapshot: Snapshot = tokens.getSnapshot();
  $('mode').textContent = `mode ${snapshot.mode}`;
  $('status').textContent = snapshot.status;
  $('status').className = `badge ${snapshot.status}`;
  $('storage').textContent = `storage ${snapshot.storage}`;
  $('session').textContent = snapshot.sessionId ?? '—';
  const found = defaultEntry(snapshot);
  if (found) seen.add(found.entry.jwt);
  $('tokens-seen').textContent = String(seen.size);
  renderTokenMeter(snapshot, Date.now());
  $('claims').textContent = found ? decode(found.entry.jwt) : snapshot.status === 'signed-out' ? 'signed out — sign in to see a token' : 'no token yet';
}

/** Every second: this tab's counters, its report, a sample of the chart's history. */
async function tick(): Promise<void> {
  try {
    const stats = await tokens.stats();
    const now = Date.now();
    const total = stats.tab.hits + stats.tab.misses;
    readCounts.push({ t: now, total });
    while (readCounts.length > 2 && now - readCounts[1]!.t >= 3000) readCounts.shift();
    const oldest = readCounts[0]!;
    readsPerSec = now > oldest.t ? Math.max(0, ((total - oldest.total) * 1000) / (now - oldest.t)) : 0;
    reads = total;
    tabsOpen = stats.tabs;
    $('tabs').textContent = String(stats.tabs);
    $('reads').textContent = `${stats.tab.hits} hits · ${stats.tab.misses} misses`;
  } catch {
    // Not connected yet: the tile says `connecting`, the chart keeps the last count.
  }
  channel.report();
  roster.prune(tabId);
  sample();
  scheduleDraw();
}

const outageInputs = [...document.querySelectorAll<HTMLInputElement>('input[name=outage]')];
let outagePending = false;
/** Every second: the origin's mints over the chart's window, its counter and its outage mode. */
async function pollOrigin(): Promise<void> {
  try {
    const [windowed, counters] = await Promise.all([originLog.read(Date.now() - HISTORY_WINDOW_MS - 5000), readOriginCounters()]);
    origin = windowed;
    $('mints').textContent = String(counters.mints);
    // Every tab's radio buttons show the mode in force, whichever tab set it.
    if (!outagePending && counters.outage) for (const input of outageInputs) input.checked = input.value === counters.outage;
    scheduleDraw();
  } catch (error) {
    $('mints').textContent = '?';
    log('error', describeError(error));
  }
}

// The tile must change the moment this tab's status or token does, not at the next tick.
let reported = '';
tokens.subscribe(() => {
  render();
  const { status, tokenTail } = myReport();
  if (`${status}|${tokenTail}` !== reported) {
    reported = `${status}|${tokenTail}`;
    channel.report();
    sample();
  }
});
tokens.on('token', (e) => log('token', `${e.key} → …${e.jwt.slice(-12)}`));
tokens.on('status', (e) => log('status', `${e.previous} → ${e.status}`));
tokens.on('signout', (e) => log('signout', e.sessionId));
tokens.on('error', (e) => log('error', describeError(e)));

$('tab-id').textContent = `tab ${tabId}`;
setInterval(render, 200);
setInterval(() => void tick(), 1000);
setInterval(() => void pollOrigin(), 1000);
// Read like an app does: constantly. Each read is answered from this tab's mirror.
setInterval(() => void tokens.getToken().catch(() => {}), 100);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible') return;
  // A tab that was hidden sampled slowly: fill in from the eldest tab, and ask the others to report.
  channel.requestHistory();
  channel.report();
});
channel.requestHistory();
void tick();
void pollOrigin();

$('sign-in').addEventListener('click', async () => {
  const res = await fetch('/demo/test-session', { method: 'POST' });
  const body: unknown = await res.json().catch(() => null);
  const url = typeof body === 'object' && body !== null && 'url' in body && typeof body.url === 'string' ? body.url : null;
  // Only ever navigate on this origin: the url comes from the demo's server, but it is checked anyway.
  if (url && new URL(url, location.href).origin === location.origin) location.assign(url);
  else log('error', typeof body === 'object' && body !== null && 'error' in body ? String(body.error) : `sign-in failed (${res.status})`);
});
$('sign-out').addEventListener('click', () => void tokens.signOut());
$('open-one').addEventListener('click', () => window.open(location.href, '_blank'));
$('open-ten').addEventListener('click', () => {
  for (let i = 0; i < 10; i++) window.open(location.href, '_blank');
});
$('refresh').addEventListener('click', () => {
  tokens.getToken({ skipCache: true }).then((jwt) => log('token', `forced → …${jwt?.slice(-12) ?? 'null'}`), () => {});
});
for (const input of outageInputs) {
  input.addEventListener('change', async () => {
    outagePending = true;
    try {
      const res = await fetch('/__origin/outage', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: input.value }) });
      log(res.ok ? 'status' : 'error', res.ok ? `origin outage → ${input.value}` : `origin outage: ${res.status}`);
    } finally {
      outagePending = false;
    }
  });
}
$<HTMLFormElement>('custom').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target as HTMLFormElement);
  const options: GetTokenOptions = {};
  const template = String(form.get('template') ?? '').trim();
  const organizationId = String(form.get('organizationId') ?? '').trim();
  const expires = String(form.get('expiresInSeconds') ?? '').trim();
  if (template) options.template = template;
  if (organizationId) options.organizationId = organizationId;
  if (expires) options.expiresInSeconds = Number(expires);
  try {
    const jwt = await tokens.getToken(options);
    $('custom-result').textContent = jwt ? decode(jwt) : 'null (signed out)';
  } catch (error) {
    $('custom-result').textContent = describeError(error);
  }
});

/** For whoever drives the page (the end-to-end test, the screenshot script): what the demo shows. */
const demo = {
  tabId,
  /** What the chart drew last. */
  chart: () => chart.drawn,
  /** The tiles of the tab strip, as shown. */
  tiles: () =>
    [...document.querySelectorAll<HTMLElement>('#tab-strip .tile')].map((tile) => ({ id: tile.dataset.tab ?? '', status: tile.dataset.status ?? '' })),
};
Object.assign(globalThis, { tokens, demo });

tokens.ready.then(render, (error: unknown) => log('error', describeError(error)));
