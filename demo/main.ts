/**
 * The demo: one tab's view of tabtoken, and a picture of all of them, against the token origin the
 * address chose — the Clerk-shaped development origin, the OpenID provider (`?origin=oidc`), the
 * app's own token endpoint with a rotating refresh cookie (`?origin=endpoint`) or better-auth
 * (`?origin=better-auth`). Everything about tokens comes from the public `tabtoken` entry; the tab
 * strip and the chart's tabs and reads come from the demo's own BroadcastChannel; the mints come
 * from the server's own record (the development origin's mint log, the provider's token answers,
 * or the token route's answers as the demo's server saw them).
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { TokenError, type GetTokenOptions, type Snapshot } from 'tabtoken';
import { ActivityChart } from './activityChart.ts';
import { ActivityHistory } from './ActivityHistory.ts';
import type { ActivitySource } from './activitySource.ts';
import { DemoChannel } from './DemoChannel.ts';
import { createDemoManager } from './demoManager.ts';
import { EndpointActivity } from './endpointActivity.ts';
import { DEMO_CHANNEL, HISTORY_WINDOW_MS, MAX_SAMPLES, type TabReport } from './demoMessages.ts';
import { ClerkActivity } from './originActivity.ts';
import type { OriginWindow } from './activitySource.ts';
import { chosenOrigin, isEndpointKind, ORIGIN_TEXTS, renderOriginSwitch } from './originChoice.ts';
import { ProviderActivity } from './providerActivity.ts';
import { TabRoster } from './TabRoster.ts';
import { loadTabMemory, saveTabMemory } from './tabMemory.ts';
import { renderTabStrip } from './tabStrip.ts';
import { defaultEntry, lifetimeSeconds, renderTokenMeter } from './tokenMeter.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const kind = chosenOrigin(location.search);
const texts = ORIGIN_TEXTS[kind];
renderOriginSwitch($('origin-switch'), kind, new URL(location.href));
$('sign-in').textContent = texts.signIn;
$('mints-label').textContent = texts.counter;
$('legend-measured').textContent = texts.measuredLegend;
$('legend-refused').textContent = texts.refusedLegend;
$('outage-legend').textContent = texts.outageLegend;
for (const [id, text] of [
  ['outage-note', texts.outageNote],
  ['sign-out-note', texts.signOutNote],
] as const) {
  $(id).textContent = text;
  $(id).hidden = text === '';
}

const { tokens, oidc } = await createDemoManager(kind).catch((error: unknown) => {
  // Nothing works without a manager: say why where a person looks, and stop here (the switch still works).
  $('problem').textContent = `The ${texts.name} is not available: ${error instanceof Error ? error.message : String(error)}`;
  $('problem').hidden = false;
  $('status').textContent = 'no manager';
  throw error;
});
const source: ActivitySource = kind === 'oidc' ? new ProviderActivity() : isEndpointKind(kind) ? new EndpointActivity(kind) : new ClerkActivity();
// The lifetime the origin's newest answer gave, for tokens that do not carry theirs (opaque ones).
let answeredLifetimeS: number | null = null;
const lifetimeOf = (token: string): number | null => lifetimeSeconds(token) ?? answeredLifetimeS;

const seen = new Set<string>();

/** Four base-36 characters: short enough for a tile, unlikely to repeat among a few dozen tabs. */
function shortId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (b) => (b % 36).toString(36)).join('');
}

// Each origin has its own tab memory and its own demo channel: the modes never mix their tabs.
const scope = kind === 'clerk' ? '' : kind;
const memory = loadTabMemory(scope);
const tabId = memory?.id ?? shortId();
const loadedAt = memory?.since ?? Date.now();
const roster = new TabRoster();
const history = new ActivityHistory();
if (memory) history.adopt(memory.samples);
addEventListener('pagehide', () => saveTabMemory({ id: tabId, since: loadedAt, samples: [...history.samples()].slice(-MAX_SAMPLES) }, scope));
let origin: OriginWindow = { mints: [], refused: [] };
let reads = 0;
let readsPerSec = 0;
/** This tab's read counts of the last few ticks: the rate is taken over about three seconds, so it does not jitter with the timers. */
const readCounts: { t: number; total: number }[] = [{ t: Date.now(), total: 0 }];
let tabsOpen = 0;

function log(type: string, text: string): void {
  const li = document.createElement('li');
  const time = `${new Date().toLocaleTimeString([], { hour12: false })}.${String(Date.now() % 1000).padStart(3, '0')}`;
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
    lifetimeS: found ? lifetimeOf(found.entry.jwt) : null,
  });
}

const chart = new ActivityChart($('chart-mints'), $('chart-tabs'), { unit: kind === 'clerk' ? 'mints' : 'refreshes' });
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

const channel = new DemoChannel({ roster, history, report: myReport, onChange: scheduleDraw, name: scope ? `${DEMO_CHANNEL}:${scope}` : DEMO_CHANNEL });

/** OpenID Connect: the ID token's claims (the access token may be opaque). Clerk and the app's own endpoints: the token, decoded. */
function claimsText(snapshot: Snapshot, token: string | null): string {
  if (snapshot.status === 'signed-out') return 'signed out — sign in to see a token';
  if (oidc) return snapshot.claims ? `ID token claims (snapshot.claims)\n${JSON.stringify(snapshot.claims, null, 2)}` : 'no ID token yet';
  return token ? decode(token) : 'no token yet';
}

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
  renderTokenMeter(snapshot, Date.now(), answeredLifetimeS);
  $('claims').textContent = claimsText(snapshot, found?.entry.jwt ?? null);
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

// Only the outage modes this origin offers (the provider's proxy is up or down, nothing else).
const outageInputs = [...document.querySelectorAll<HTMLInputElement>('input[name=outage]')].filter((input) => {
  const offered = source.outages.some((mode) => mode === input.value);
  if (!offered) input.closest('label')?.remove();
  return offered;
});
if (oidc) $('outage-down').textContent = 'down (proxy stopped)';
let outagePending = false;
/** Every second: the origin's mints over the chart's window, its counter and its outage mode. */
async function pollOrigin(): Promise<void> {
  try {
    const activity = await source.read(Date.now() - HISTORY_WINDOW_MS - 5000);
    origin = activity.window;
    answeredLifetimeS = activity.lifetimeS ?? answeredLifetimeS;
    $('mints').textContent = String(activity.count);
    // Every tab's radio buttons show the mode in force, whichever tab set it.
    if (!outagePending && activity.outage) for (const input of outageInputs) input.checked = input.value === activity.outage;
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
  if (isEndpointKind(kind)) {
    // The app's own sign-in page, which comes back here once every tab is signed in.
    location.assign(`/sign-in.html?origin=${kind}`);
    return;
  }
  if (oidc) {
    // To the provider's login page; the redirect page brings this tab back to this very address.
    await tokens.signIn({ returnTo: location.pathname + location.search }).catch((error: unknown) => log('error', describeError(error)));
    return;
  }
  const res = await fetch('/demo/test-session', { method: 'POST' });
  const body: unknown = await res.json().catch(() => null);
  const url = typeof body === 'object' && body !== null && 'url' in body && typeof body.url === 'string' ? body.url : null;
  // Only ever navigate on this origin: the url comes from the demo's server, but it is checked anyway.
  if (url && new URL(url, location.href).origin === location.origin) location.assign(url);
  else log('error', typeof body === 'object' && body !== null && 'error' in body ? String(body.error) : `sign-in failed (${res.status})`);
});
// OpenID Connect: every tab signs out at once, then this one goes to the provider's logout and back.
$('sign-out').addEventListener('click', () => void tokens.signOut().catch((error: unknown) => log('error', describeError(error))));
$('open-one').addEventListener('click', () => window.open(location.href, '_blank'));
$('open-ten').addEventListener('click', () => {
  for (let i = 0; i < 10; i++) window.open(location.href, '_blank');
});
$('refresh').addEventListener('click', () => {
  tokens.getToken({ skipCache: true }).then(
    (jwt) => log('token', `forced → …${jwt?.slice(-12) ?? 'null'}`),
    () => {},
  );
});
for (const input of outageInputs) {
  input.addEventListener('change', async () => {
    const mode = source.outages.find((m) => m === input.value);
    if (!mode) return;
    outagePending = true;
    try {
      await source.setOutage(mode);
      log('status', `${texts.outageLegend.toLowerCase()} → ${mode}`);
    } catch (error) {
      log('error', describeError(error));
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

// The options of a Clerk token have no counterpart elsewhere (one token per grant or endpoint):
// OpenID Connect tries the provider's DPoP-only API instead, the app's own endpoint its own API.
const resourceUrl = oidc ? oidc.resourceUrl : kind === 'endpoint' ? '/app/api/me' : null;
$('options-card').hidden = kind !== 'clerk';
$('resource-card').hidden = oidc === null && resourceUrl === null;
if (kind === 'endpoint') {
  $('resource-title').textContent = "Call the app's API";
  $('resource-note').textContent =
    "GET /app/api/me with tokens.fetch: the token goes as Bearer. The API refuses a token its own clock finds expired (as after a laptop sleeps); tokens.fetch then retries once with a new one — never a refresh call of the tab's own.";
  $('call-resource').textContent = "tokens.fetch('/app/api/me')";
}
$('call-resource').addEventListener('click', async () => {
  const out = $('resource-result');
  if (!resourceUrl) {
    out.textContent = 'the demo server runs no resource server';
    return;
  }
  try {
    const res = await tokens.fetch(resourceUrl);
    const text = await res.text();
    let shown = text.slice(0, 2000);
    try {
      shown = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // Not JSON: shown as the text it is.
    }
    out.textContent = `${res.status} ${res.statusText}\n${shown}`;
  } catch (error) {
    out.textContent = describeError(error);
  }
});

/** For whoever drives the page (the end-to-end test, the screenshot script): what the demo shows. */
const demo = {
  tabId,
  /** The token origin the address chose. */
  origin: kind,
  /** What the chart drew last. */
  chart: () => chart.drawn,
  /** The tiles of the tab strip, as shown. */
  tiles: () =>
    [...document.querySelectorAll<HTMLElement>('#tab-strip .tile')].map((tile) => ({ id: tile.dataset.tab ?? '', status: tile.dataset.status ?? '' })),
};
Object.assign(globalThis, { tokens, demo });

tokens.ready.then(render, (error: unknown) => log('error', describeError(error)));
