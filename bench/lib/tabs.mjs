/**
 * Opening bench tabs (pages of bench/pages/contender.html) and reading what they measured. Every
 * run gets a browser context of its own: its own cookie jar (so its own session), storage, workers
 * and locks, and a `bench_run` cookie that tags every request it sends in the server's log.
 */

/** The contenders, in the order the tables show them. */
export const CONTENDERS = {
  shared: { label: 'tabtoken, shared mode', sharedCache: true },
  local: { label: 'tabtoken, local mode', sharedCache: true },
  perTab: { label: 'baseline: per tab', sharedCache: false },
  broadcastLock: { label: 'baseline: broadcast + lock', sharedCache: true },
  supabase: { label: '@supabase/auth-js (unmodified)', sharedCache: true },
};

const MINT_PATH = /^\/v1\/client\/sessions\/[^/]+\/tokens(?:[/?]|$)|^\/auth\/v1\/token\?/;

/** A 2xx answer that carried a new token (either protocol): a mint as SPEC section 10 counts it. */
export function isMint(entry) {
  return entry.method === 'POST' && entry.status >= 200 && entry.status < 300 && MINT_PATH.test(entry.url);
}

/** The benchmark's own sign-in (Clerk shape), which no contender would make on its own. */
export function isBenchSignIn(entry) {
  return entry.url.startsWith('/v1/client/sign_ins');
}

let counter = 0;
/** A run id, also the namespace of its tabs: short, URL- and cookie-safe. */
export function runId(label) {
  counter += 1;
  return `${label}-${counter}-${Math.random().toString(36).slice(2, 7)}`;
}

export async function newRunContext(browser, base, id) {
  const context = await browser.newContext();
  await context.addCookies([{ name: 'bench_run', value: id, url: base }]);
  return context;
}

export function contenderUrl(base, { kind, ns, signIn = false, readMs = 0, trace = false }) {
  const query = new URLSearchParams({ c: kind, ns });
  if (trace) query.set('trace', '1');
  if (signIn) query.set('signin', '1');
  if (readMs > 0) query.set('read', String(readMs));
  return `${base}/pages/contender.html?${query}`;
}

/** Waits for the tab's first token (or its error); rejects with the page's own error message. */
async function settled(page, kind, timeoutMs) {
  const done =
    kind === 'blank' ? () => globalThis.bench?.createdAt > 0 || globalThis.bench?.error : () => globalThis.bench?.firstTokenAt || globalThis.bench?.error;
  await page.waitForFunction(done, null, { timeout: timeoutMs, polling: 50 });
  const error = await page.evaluate(() => globalThis.bench.error);
  if (error) throw new Error(`${kind} tab failed: ${error}`);
  return page;
}

/**
 * Opens one tab of a contender as a new top-level page (a renderer process of its own, as when the
 * user opens the app from the address bar) and waits for its first token.
 */
export async function openTab(context, base, { timeoutMs = 60_000, ...tab }) {
  const page = await context.newPage();
  await page.goto(contenderUrl(base, tab));
  return settled(page, tab.kind, timeoutMs);
}

/**
 * Opens `count` more tabs from `opener` with `window.open`, as when the user opens links of the app
 * in new tabs: Chromium keeps them in the opener's renderer process, which makes opening dozens of
 * tabs take a second instead of a minute of process start-ups on this machine.
 */
export async function openTabsFrom(opener, count, base, { timeoutMs = 60_000, ...tab }) {
  if (count <= 0) return [];
  const context = opener.context();
  const opened = [];
  const onPage = (page) => opened.push(page);
  context.on('page', onPage);
  try {
    await opener.evaluate(
      ({ url, count }) => {
        for (let i = 0; i < count; i++) window.open(url, '_blank');
      },
      { url: contenderUrl(base, tab), count },
    );
    const deadline = Date.now() + timeoutMs;
    while (opened.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${opened.length} of ${count} tabs opened`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    context.off('page', onPage);
  }
  return Promise.all(opened.map((page) => page.waitForLoadState('domcontentloaded').then(() => settled(page, tab.kind, timeoutMs))));
}

/**
 * Opens `count` more tabs from `opener` like `openTabsFrom`, but waits through the opener: each new
 * tab reports to it over the run's BroadcastChannel once it made its first read (token or not), so
 * this process makes no DevTools call into them (with 100 tabs, those calls are most of the cost of
 * opening them).
 */
export async function openTabsByRollCall(opener, count, base, { timeoutMs = 180_000, ...tab }) {
  if (count <= 0) return;
  await opener.evaluate(
    ({ url, count }) => {
      for (let i = 0; i < count; i++) window.open(url, '_blank');
    },
    { url: contenderUrl(base, tab), count },
  );
  await opener.evaluate(({ count, timeoutMs }) => globalThis.bench.waitForTabs(count, timeoutMs), { count, timeoutMs });
}

/** A run of its own: a browser context and its first tab, signed in, with its first token. */
export async function openSignedInRun(browser, base, kind, label) {
  const id = runId(`${label}-${kind}`);
  const context = await newRunContext(browser, base, id);
  try {
    return { id, context, page: await openTab(context, base, { kind, ns: id, signIn: true }) };
  } catch (error) {
    await context.close();
    throw error;
  }
}

/** `{ createdAt, constructedAt, readyAt, firstTokenAt, trace }` of a tab, on the page's clock (ms since the epoch). */
export function firstTokenTimes(page) {
  return page.evaluate(() => {
    const { createdAt, constructedAt, readyAt, firstTokenAt, trace } = globalThis.bench;
    return { createdAt, constructedAt, readyAt, firstTokenAt, trace };
  });
}
