/**
 * The demo: one tab's view of tabtoken. Everything comes from the public `tabtoken` entry; the
 * numbers in "All tabs" come from the development origin's stats.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createTokenManager, TokenError, type GetTokenOptions } from 'tabtoken';

const tokens = createTokenManager({ pollIntervalMs: 1000 });
Object.assign(globalThis, { tokens });

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const seen = new Set<string>();

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
  return String(error);
}

function decode(jwt: string): string {
  return JSON.stringify({ header: decodeProtectedHeader(jwt), claims: decodeJwt(jwt) }, null, 2);
}

tokens.on('token', (e) => log('token', `${e.key} → …${e.jwt.slice(-12)}`));
tokens.on('status', (e) => log('status', `${e.previous} → ${e.status}`));
tokens.on('signout', (e) => log('signout', e.sessionId));
tokens.on('error', (e) => log('error', describeError(e)));

function render(): void {
  const snapshot = tokens.getSnapshot();
  $('mode').textContent = `mode ${snapshot.mode}`;
  $('status').textContent = snapshot.status;
  $('status').className = `badge ${snapshot.status}`;
  $('storage').textContent = `storage ${snapshot.storage}`;
  $('session').textContent = snapshot.sessionId ?? '—';
  const jwt = tokens.peekToken();
  const key = snapshot.sessionId ? `${snapshot.sessionId}|||` : null;
  const entry = key ? snapshot.tokens[key] : undefined;
  if (jwt) seen.add(jwt);
  $('tokens-seen').textContent = String(seen.size);
  if (entry) {
    const now = Date.now();
    const total = Math.max(1, (decodeJwt(entry.jwt).exp ?? 0) - (decodeJwt(entry.jwt).iat ?? 0)) * 1000;
    const fresh = Math.max(0, entry.staleAt - now);
    const stale = Math.max(0, entry.expiresAt - Math.max(now, entry.staleAt));
    $('meter-fresh').style.width = `${(100 * fresh) / total}%`;
    $('meter-stale').style.width = `${(100 * stale) / total}%`;
    $('stale-in').textContent = `${(fresh / 1000).toFixed(1)} s`;
    $('expires-in').textContent = `${(Math.max(0, entry.expiresAt - now) / 1000).toFixed(1)} s`;
    $('claims').textContent = decode(entry.jwt);
  } else {
    $('meter-fresh').style.width = '0';
    $('meter-stale').style.width = '0';
    $('stale-in').textContent = '—';
    $('expires-in').textContent = '—';
    $('claims').textContent = snapshot.status === 'signed-out' ? 'signed out — sign in to see a token' : 'no token yet';
  }
}

async function pollStats(): Promise<void> {
  try {
    const [mine, origin] = await Promise.all([
      tokens.stats(),
      fetch('/__origin/stats').then((r) => r.json() as Promise<{ mints: number }>),
    ]);
    $('tabs').textContent = String(mine.tabs);
    $('mints').textContent = String(origin.mints);
    $('reads').textContent = `${mine.tab.hits} hits · ${mine.tab.misses} misses`;
  } catch {
    // The stats panel is informative only; the timeline shows real errors.
  }
}

tokens.subscribe(render);
setInterval(render, 200);
setInterval(() => void pollStats(), 1000);
// Read like an app does: constantly.
setInterval(() => void tokens.getToken().catch(() => {}), 250);

$('sign-in').addEventListener('click', async () => {
  const res = await fetch('/demo/test-session', { method: 'POST' });
  const body = (await res.json()) as { url?: string; error?: string };
  if (body.url) location.assign(body.url);
  else log('error', body.error ?? `sign-in failed (${res.status})`);
});
$('sign-out').addEventListener('click', () => void tokens.signOut());
$('open-one').addEventListener('click', () => window.open(location.href, '_blank'));
$('open-ten').addEventListener('click', () => {
  for (let i = 0; i < 10; i++) window.open(location.href, '_blank');
});
$('refresh').addEventListener('click', () => {
  tokens.getToken({ skipCache: true }).then((jwt) => log('token', `forced → …${jwt?.slice(-12) ?? 'null'}`), () => {});
});
for (const input of document.querySelectorAll<HTMLInputElement>('input[name=outage]')) {
  input.addEventListener('change', async () => {
    await fetch('/__origin/outage', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: input.value }) });
    log('status', `origin outage → ${input.value}`);
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

tokens.ready.then(render, (error: unknown) => log('error', describeError(error)));
