/**
 * The token-endpoint section of BENCHMARKS.md, from what `measureEndpointPeers` returned. Nothing
 * here measures; every sentence is computed from the rows.
 */
import { ENDPOINT_CONTENDERS } from './contenders.mjs';

function num(value, digits = 2) {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

function table(head, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const label = (kind) => ENDPOINT_CONTENDERS[kind]?.label ?? kind;
const order = (kind) => Object.keys(ENDPOINT_CONTENDERS).indexOf(kind);
const serverOf = (row) => ENDPOINT_CONTENDERS[row.kind]?.server;
const byN = (rows) => [...rows].sort((a, b) => a.n - b.n || order(a.kind) - order(b.kind));

function codes(byCode) {
  const entries = Object.entries(byCode ?? {});
  return entries.length ? entries.map(([code, count]) => `${count} × ${code}`).join('; ') : 'none';
}

function reuseCell(value) {
  return value === null || value === undefined ? '0 (no rotation)' : String(value);
}

function windowTable(rows, server) {
  const app = server === 'app';
  return table(
    [
      'N tabs',
      'Contender',
      'Token requests (2xx; distinct tokens)',
      'Refused answers',
      'Cycles',
      '**Token requests per cycle**',
      'Token requests per lifetime',
      ...(app ? ['**Reuse detections** (server)', 'Family revoked'] : []),
      '**Tabs signed out**',
      ...(app ? ['API calls: 2xx / refused'] : []),
      'Reads (no token)',
    ],
    byN(rows).map((row) =>
      row.error
        ? [row.n, label(row.kind), `failed: ${row.error}`, ...Array(app ? 9 : 6).fill('')]
        : [
            row.n,
            label(row.kind),
            `${row.tokenRequests} (${row.tokens}; ${row.distinctTokens})`,
            codes(row.failedByCode),
            row.cycles,
            `**${num(row.requestsPerCycle)}**`,
            num(row.requestsPerLifetime, 1),
            ...(app
              ? [
                  `**${reuseCell(row.reuses)}**${row.reusesWhileOpening ? ` (+${row.reusesWhileOpening} while opening)` : ''}`,
                  row.familyRevoked ? (row.firstReuseAfterS === null ? 'yes' : `yes, ${num(row.firstReuseAfterS, 1)} s in`) : 'no',
                ]
              : []),
            `**${row.tabsSignedOutInWindow} of ${row.n}**`,
            ...(app ? [`${row.apiOk} / ${row.apiFailed}`] : []),
            `${row.reads} (${row.readsWithoutToken})${row.tabsReported < row.n ? ` — ${row.tabsReported} of ${row.n} tabs reported` : ''}`,
          ],
    ),
  );
}

function wakeTable(rows, server) {
  const app = server === 'app';
  return table(
    [
      'N tabs',
      'Contender',
      'Tabs reading at once (start spread)',
      '**Token requests** (2xx; distinct tokens)',
      'Refused answers',
      ...(app ? ['**Reuse detections**', 'Family revoked', 'API call answered 2xx'] : ['Read got a token']),
      '**Tabs signed out**: right after / after one more read each',
      'Slowest read',
    ],
    byN(rows).map((row) => {
      if (row.error) return [row.n, label(row.kind), `failed: ${row.error}`, ...Array(app ? 7 : 5).fill('')];
      const w = row.wake;
      if (w.tabsReading === 0) return [row.n, label(row.kind), `none: all ${row.n} signed out in the window`, ...Array(app ? 7 : 5).fill('—')];
      return [
        row.n,
        label(row.kind),
        `${w.tabsReading} of ${row.n} (${num(w.startSpreadMs, 1)} ms)`,
        `**${w.tokenRequests}** (${w.tokens}; ${w.distinctTokens})`,
        codes(w.failedByCode),
        ...(app ? [`**${reuseCell(w.reuses)}**`, w.familyRevoked ? 'yes' : 'no', `${w.apiOk} of ${w.tabsReading}`] : [`${w.withToken} of ${w.tabsReading}`]),
        `${w.tabsSignedOutRightAfter} / **${w.tabsSignedOutAfter}** of ${row.n}`,
        `${num(w.slowestMs, 0)} ms`,
      ];
    }),
  );
}

/** When the wake-up's token requests reached the server, for a handful of them. */
function timings(w) {
  const requests = w.requests ?? [];
  if (requests.length < 2 || requests.length > 6) return '';
  return ` (they reached the server ${requests.map((r) => `${r.afterMs} ms`).join(', ')} after the instant, answered ${requests.map((r) => (r.code ? `${r.status} ${r.code}` : r.status)).join(', ')})`;
}

function observations(rows) {
  const ok = rows.filter((row) => !row.error);
  const out = [];
  for (const kind of Object.keys(ENDPOINT_CONTENDERS)) {
    const mine = byN(ok.filter((row) => row.kind === kind));
    if (!mine.length) continue;
    const app = ENDPOINT_CONTENDERS[kind].server === 'app';
    const parts = mine.map((row) => {
      const w = row.wake;
      const windowPart = `${row.tokens} token answers for ${row.cycles} cycles (${num(row.requestsPerCycle)} per cycle, ${num(row.requestsPerLifetime, 1)} requests per lifetime)${app ? `, ${row.reuses} reuse detection${row.reuses === 1 ? '' : 's'}` : ''}, ${row.tabsSignedOutInWindow} of ${row.n} tabs signed out`;
      const wakePart =
        w.tabsReading === 0
          ? 'no tab left to wake'
          : `${app ? 'at the wake-up' : 'in the burst'} ${w.tokenRequests} token request${w.tokenRequests === 1 ? '' : 's'} from ${w.tabsReading} tab${w.tabsReading === 1 ? '' : 's'}${app ? `, ${w.reuses} reuse detection${w.reuses === 1 ? '' : 's'}${w.familyRevoked ? ' (the family revoked)' : ''}, ${w.apiOk} API call${w.apiOk === 1 ? '' : 's'} answered 2xx` : ''}${timings(w)}, ${w.tabsSignedOutRightAfter} of ${row.n} signed out right after and ${w.tabsSignedOutAfter} after one more read each${w.followUp?.tokenRequests ? ` (which made ${w.followUp.tokenRequests} more token request${w.followUp.tokenRequests === 1 ? '' : 's'})` : ''}`;
      return `N=${row.n}: ${windowPart}; ${wakePart}`;
    });
    out.push(`${label(kind)} — ${parts.join('; ')}.`);
  }
  return out.map((line) => `- ${line}`).join('\n');
}

/** Whether tabtoken's rows meet SPEC 10's budget for a token endpoint. */
function tabtokenMet(rows) {
  const mine = rows.filter((row) => row.kind === 'tabtokenApp' || row.kind === 'tabtokenBetterAuth');
  if (!mine.length) return { rows: mine, met: null };
  const met = mine.every(
    (row) =>
      !row.error &&
      row.requestsPerCycle === 1 &&
      row.tokens === row.tokenRequests &&
      (row.reuses ?? 0) === 0 &&
      (row.reusesWhileOpening ?? 0) === 0 &&
      row.tabsSignedOutInWindow === 0 &&
      (row.wake.reuses ?? 0) === 0 &&
      row.wake.tokenRequests <= 1 &&
      row.wake.tabsSignedOutAfter === 0,
  );
  return { rows: mine, met };
}

/** What missed the budget, in a few words per row. */
function missedBy(rows) {
  const parts = [];
  for (const row of byN(rows.filter((r) => r.kind === 'tabtokenApp' || r.kind === 'tabtokenBetterAuth'))) {
    const where = `${ENDPOINT_CONTENDERS[row.kind].server === 'app' ? 'rotating cookie' : 'better-auth'} N=${row.n}`;
    if (row.error) parts.push(`${where} failed`);
    else {
      const bad = [];
      if (row.requestsPerCycle !== 1 || row.tokens !== row.tokenRequests) bad.push(`${row.tokenRequests} requests for ${row.cycles} cycles`);
      if ((row.reuses ?? 0) + (row.reusesWhileOpening ?? 0) > 0) bad.push(`${(row.reuses ?? 0) + (row.reusesWhileOpening ?? 0)} reuses`);
      if (row.tabsSignedOutInWindow > 0) bad.push(`${row.tabsSignedOutInWindow} tabs signed out`);
      if (row.wake.tokenRequests > 1) bad.push(`${row.wake.tokenRequests} requests at the wake-up`);
      if ((row.wake.reuses ?? 0) > 0) bad.push(`${row.wake.reuses} reuses at the wake-up`);
      if (row.wake.tabsSignedOutAfter > 0) bad.push(`${row.wake.tabsSignedOutAfter} tabs signed out after it`);
      if (bad.length) parts.push(`${where}: ${bad.join(', ')}`);
    }
  }
  return parts.length ? ` by ${parts.join('; ')} (see "Budgets missed" at the top)` : '';
}

/** The summary row for SPEC 10's "exactly 1 for a token endpoint too, with 0 reuse detections … also at a wake-up moment". */
export function endpointSummaryRow(endpoint) {
  const name = "Token requests per cycle against the app's own token endpoint, any N; reuse detections; the wake-up";
  const limit = 'exactly 1, 0 reuses, 1 request at the wake-up';
  if (!endpoint) return [name, limit, 'not measured in this run', 'not measured'];
  const { rows, met } = tabtokenMet(endpoint.rows);
  if (!rows.length) return [name, limit, 'no tabtoken run', '**pending**'];
  const cell = byN(rows)
    .map((row) =>
      row.error
        ? `${ENDPOINT_CONTENDERS[row.kind].server} N=${row.n} failed`
        : ENDPOINT_CONTENDERS[row.kind].server === 'app'
          ? `${num(row.requestsPerCycle)} (rotating cookie, N=${row.n}, ${row.reuses} reuses; wake-up ${row.wake.tokenRequests} request${row.wake.tokenRequests === 1 ? '' : 's'}, ${row.wake.reuses} reuses)`
          : `${num(row.requestsPerCycle)} (better-auth, N=${row.n}; all tabs at once ${row.wake.tokenRequests} request${row.wake.tokenRequests === 1 ? '' : 's'})`,
    )
    .join(', ');
  return [name, limit, cell, met ? '**met**' : '**missed**'];
}

/** Section 8 of BENCHMARKS.md. */
export function renderEndpointSection(endpoint) {
  const heading = "## 8. The app's own token endpoint: N tabs against a rotating refresh cookie and against better-auth";
  if (!endpoint) return `${heading}\n\nNot measured in this run: \`npm run bench\` (or \`-- --endpoint-only\`) runs it.\n`;
  const v = endpoint.versions;
  const load = endpoint.load
    ? ` Load average (1/5/15 min) at its start ${endpoint.load.start.map((x) => x.toFixed(2)).join('/')}, at its end ${endpoint.load.end.map((x) => x.toFixed(2)).join('/')}.`
    : '';
  const provisional =
    endpoint.mode === 'quick'
      ? `> **Provisional:** a quick-mode run (${endpoint.lifetimes} lifetimes of ${endpoint.lifetimeS} s) on a 2-core machine shared with other work (${endpoint.date}; it took ${num(endpoint.durationS / 60, 1)} min).${load} The counts are what the servers answered; how often tabs collide depends on timing, so the load can change the peers' figures. \`npm run bench\` measures again (five lifetimes).\n`
      : `> Run of ${endpoint.date} (${endpoint.mode} mode; it took ${num(endpoint.durationS / 60, 1)} min).${load}\n`;
  const m = endpoint.machine;
  const machineLine = m
    ? `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.platform}; Node ${m.node}; Chromium ${m.chromium} (headless, playwright-core ${m.playwrightCore}); Vite ${m.vite}; commit ${m.commit ?? 'unknown'}${m.uncommittedChanges ? ' plus uncommitted changes' : ''}.`
    : '';
  const pending = endpoint.pending.map((p) => `- **${label(p.kind)}**: not run — ${p.reason}.`).join('\n');
  const appRows = endpoint.rows.filter((row) => serverOf(row) === 'app');
  const baRows = endpoint.rows.filter((row) => serverOf(row) === 'betterAuth');
  const { met } = tabtokenMet(endpoint.rows);
  return `${heading}

${provisional}
${machineLine}

SPEC 10's budget for tabtoken — exactly 1 token request per cycle at every N, 0 reuse detections, no tab signed out, and one request when every tab reads at once (none where the cached token is still fresh): ${met === null ? 'not measured' : met ? '**met**' : `**missed**${missedBy(endpoint.rows)}`}.

Servers, one per run (its own port of 127.0.0.1, so its own origin, cookies, counters and clock; \`bench/endpoint/server.ts\`):
- **The app's rotating refresh cookie**: the development origin's app session routes (SPEC 9). \`POST /app/session/token\` answers \`{ access_token, expires_in }\` (an ES256 JWT of ${endpoint.lifetimeS} s) and rotates the HttpOnly \`__app_refresh\` cookie at every call; a cookie presented after it was rotated away is a reuse detection (\`app.reuses\` of its own \`GET /__origin/stats\`): the whole family is revoked and every later call answers 401. Strict: no reuse interval (\`refreshReuseIntervalSeconds: 0\`). \`GET /app/api/me\` is the protected API: 200 for a live family's unexpired token by the origin's clock, else 401.
- **better-auth ${v.betterAuth}** (from npm, \`dev/betterAuth/\`): email and password, its \`jwt\` plugin (EdDSA JWTs of ${endpoint.lifetimeS} s), memory adapter, mounted on the same server. \`GET /api/auth/token\` answers \`{ token }\` from the session cookie, which it neither rotates nor sets there — so no reuse can be detected and none is counted: the figure that differs is how many requests the tabs make.

Contenders (${endpoint.sizes.join(', ')} tabs each, one browser context per run; every tab reads once every ${endpoint.readMs} ms, as an app reads before an API call):
- **tabtoken, \`endpoint\`**: \`createTokenManager({ namespace, endpoint: { tokenUrl: '/app/session/token', signOutUrl: '/app/session/logout' } })\` from the public entry, built by Vite for production (\`bench/endpoint/pages/tabtoken.ts\`): one SharedWorker per origin is the only caller of \`tokenUrl\`, under a Web Lock, never abandoning a request. Each read is \`getToken()\` and then \`tokens.fetch('/app/api/me')\` (which retries a 401 once with a newer token). Against better-auth: \`endpoint: { tokenUrl: '/api/auth/token', method: 'GET' }\`, each read \`getToken()\`.
- **axios-auth-refresh ${v.axiosAuthRefresh}** with **axios ${v.axios}**, from npm, unmodified (\`bench/endpoint/pages/axiosAuthRefresh.ts\`): one axios instance per tab, set up as its README documents — a request interceptor that adds \`Authorization: Bearer\` with the tab's access token, and \`createAuthRefresh(instance, refreshAuthLogic)\`, whose logic calls \`POST /app/session/token\` with the global axios (the cookie flows) and sets the new token on the failed request, which the library retries. Each tab keeps its access token in its own memory, as apps do; each read is \`instance.get('/app/api/me')\`. A refresh answered 401 (reuse, a revoked family, the cookie cleared) leaves the tab signed out: the app would show its sign-in page, and the tab reads no more.
- **better-auth's client** (\`better-auth/client\` ${v.betterAuth}, unmodified): \`createAuthClient({ plugins: [jwtClient()] })\` and \`authClient.token()\` in every tab at every read — the client keeps no token, so each read is one \`GET /api/auth/token\` (\`bench/endpoint/pages/betterAuthClient.ts\`).
${pending}

### 8a. Against the app's rotating refresh cookie: ${endpoint.lifetimes} lifetimes (${endpoint.lifetimes * endpoint.lifetimeS} s) counted

${windowTable(appRows, 'app')}

The wake-up moment (after the window, reading paused in every tab): the origin's clock advanced ${endpoint.lifetimeS + endpoint.wakePastLifetimeS} s (one lifetime and ${endpoint.wakePastLifetimeS} s), so every token any tab holds is expired by the API's clock, as after a laptop sleeps; then every tab calls \`GET /app/api/me\` at one instant.

${wakeTable(appRows, 'app')}

### 8b. Against better-auth: ${endpoint.lifetimes} lifetimes (${endpoint.lifetimes * endpoint.lifetimeS} s) counted

${windowTable(baRows, 'betterAuth')}

The burst (after the window, reading paused in every tab): every tab reads at one instant. better-auth's server runs on the real clock, which the benchmark cannot move, so this is not a wake-up: tabtoken's tabs read their still-fresh token from the cache (a request counted here is the worker's own refresh ahead of expiry, which falls in these few seconds by chance), and better-auth's client, which keeps no token, asks once per tab whether the tabs woke from a sleep or not.

${wakeTable(baRows, 'betterAuth')}

### What the rows say

${observations(endpoint.rows)}

How it was measured: per run, a server of its own and one browser context (its own cookies and storage) in Chromium. Tab 0 signs in over the server's own routes (\`POST /app/session/login\`, or better-auth's \`signUp.email\` through its client); the other N − 1 tabs are opened one after the other, each once the one before holds its first token, so the opening is no stampede (reuse detections while opening are shown when there were any). Then every tab reads every ${endpoint.readMs} ms for ${endpoint.lifetimes} lifetimes. All counts come from the servers: a request log of the token routes (every answer with the token it carried or its error code) and the servers' own counters (\`app.reuses\` and \`app.revoked\` of \`GET /__origin/stats\`; better-auth's request counts). Token requests count every answer of the token route in the window; cycles are the tokens answered in the window that then became a cached token — read by any tab where one cache serves every tab (tabtoken), by tab 0 where each tab keeps its own (axios-auth-refresh) or none (better-auth's client: a cycle there is a distinct token tab 0 read, about one per read — better-auth signs the same claims into the same JWT within one second, so reads in one second can share one); token requests per cycle divide the 2xx answers by the cycles, and per lifetime divide every request by the window's length in lifetimes. The wake-up's figures count from the instant to 2 s after it; then every tab reads once more, one tab after the other, and "after one more read each" counts the tabs signed out then (a tab whose family was revoked under it learns it at its next call). Tabs signed out: a tab whose token source refused it (tabtoken: status \`signed-out\`; axios-auth-refresh: its refresh answered 401; better-auth's client: \`token()\` answered 401) — nothing else signs anyone out here, so each is a tab signed out by the tabs' own races. Runs of all contenders and sizes ran side by side.
`;
}

/** A line for "Budgets missed, and what it would take", or null when there is nothing to say. */
export function endpointExplanation(endpoint) {
  if (!endpoint?.rows?.length)
    return "- **The app's own token endpoint.** Not measured in this run: `npm run bench` (or `-- --endpoint-only`) runs tabtoken, axios-auth-refresh and better-auth's client against the rotating refresh cookie and better-auth.";
  const { rows, met } = tabtokenMet(endpoint.rows);
  if (met !== false) return null;
  const bad = byN(rows).map((row) => {
    if (row.error) return `${label(row.kind)} N=${row.n} failed (${row.error})`;
    const w = row.wake;
    return `${label(row.kind)} N=${row.n}: ${row.tokenRequests} token requests (${row.tokens} 2xx) for ${row.cycles} cycles, ${row.mintedNeverRead} answered and never read, ${row.reuses ?? 0} reuses, ${row.tabsSignedOutInWindow} tabs signed out; wake-up ${w.tokenRequests} requests, ${w.reuses ?? 0} reuses, ${w.tabsSignedOutAfter} signed out`;
  });
  // The pattern of the wake-up's extra requests: every one answered 2xx with a token of its own, in sequence, no reuse.
  const serialWake = rows.filter(
    (row) => !row.error && row.wake.tokenRequests > 1 && row.wake.tokens === row.wake.tokenRequests && (row.wake.reuses ?? 0) === 0,
  );
  const why = serialWake.length
    ? ` At the wake-up the extra requests were one after the other, each answered 2xx with a token of its own and presenting the newest cookie (no reuse): ${serialWake.map((row) => `N=${row.n} at ${row.wake.requests.map((r) => `${r.afterMs} ms`).join(' and ')}`).join('; ')}. \`tokens.fetch\` retries a 401 with \`getToken({ skipCache: true })\` (\`client/authorizedFetch.ts\`), which joins a mint only while one is in flight, so a tab whose 401 came back after the first new token had landed asked for another. SPEC 5 asks that retry to use the cached token when it is newer than the refused one; with that, the wake-up would cost one request.`
    : '';
  return `- **The app's own token endpoint (section 8).** ${bad.join('; ')}.${why}`;
}
