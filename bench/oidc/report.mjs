/**
 * The OpenID Connect section of BENCHMARKS.md, from what `measureOidcPeers` returned. Nothing here
 * measures; every sentence is computed from the rows.
 */
import { OIDC_CONTENDERS } from './contenders.mjs';

function num(value, digits = 2) {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

function table(head, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const label = (kind) => OIDC_CONTENDERS[kind]?.label ?? kind;
const order = (kind) => Object.keys(OIDC_CONTENDERS).indexOf(kind);

function reasons(row) {
  const entries = Object.entries(row.invalidGrantReasons ?? {});
  return entries.length ? ` (${entries.map(([why, count]) => `${count} × ${why}`).join('; ')})` : '';
}

function phaseTable(rows) {
  const sorted = [...rows].sort((a, b) => a.n - b.n || order(a.kind) - order(b.kind));
  return table(
    [
      'N tabs',
      'Contender',
      'Refreshes (2xx)',
      'Refresh requests',
      'Cycles',
      '**Refreshes per cycle**',
      '`invalid_grant` answers',
      'Grant revoked by the provider',
      '**Tabs signed out at the end**',
      'Tabs whose token the provider still accepts',
      'Reads (no token)',
    ],
    sorted.map((row) =>
      row.error
        ? [row.n, label(row.kind), `failed: ${row.error}`, '', '', '', '', '', '', '', '']
        : [
            row.n,
            label(row.kind),
            row.refreshes,
            row.refreshAttempts,
            row.cycles,
            `**${num(row.refreshesPerCycle)}**${row.grantRevoked && row.cycles > 0 ? ', then revoked' : ''}`,
            `${row.invalidGrants}${reasons(row)}`,
            row.grantRevoked
              ? `yes, ${num(row.grantRevoked.afterS, 1)} s into the window (${row.grantRevoked.route === 'token' ? 'reuse detected' : row.grantRevoked.route})`
              : 'no',
            `**${row.tabsSignedOutAtEnd} of ${row.n}**`,
            `${row.tabsWithActiveToken} of ${row.n}`,
            `${row.reads} (${row.nullReads})${row.tabsReported < row.n ? ` — ${row.tabsReported} of ${row.n} tabs reported` : ''}`,
          ],
    ),
  );
}

function observations(rows, phase) {
  const ok = rows.filter((row) => !row.error);
  const out = [];
  for (const kind of Object.keys(OIDC_CONTENDERS)) {
    const mine = ok.filter((row) => row.kind === kind).sort((a, b) => a.n - b.n);
    if (!mine.length) continue;
    const parts = mine.map((row) => {
      const fate = row.grantRevoked
        ? `the provider revoked the grant ${num(row.grantRevoked.afterS, 1)} s in after ${row.invalidGrants} \`invalid_grant\` answer${row.invalidGrants === 1 ? '' : 's'}, ${row.tabsSignedOutAtEnd} of ${row.n} tabs ended signed out`
        : row.refreshes === 0
          ? `no refresh at all in ${num(row.windowS, 0)} s, ${row.tabsSignedOutAtEnd} of ${row.n} tabs ended signed out`
          : `${row.refreshes} refreshes for ${row.cycles} cycles (${num(row.refreshesPerCycle)} per cycle), ${row.invalidGrants} \`invalid_grant\`, ${row.tabsSignedOutAtEnd} of ${row.n} signed out`;
      return `N=${row.n}: ${fate}`;
    });
    out.push(`${label(kind)} — ${parts.join('; ')}.`);
  }
  const polling = ok.filter((row) => row.kind === 'oidcClientTsLocalGetUser');
  const starved = polling.filter((row) => !row.grantRevoked && row.tabsSignedOutAtEnd > 0);
  if (starved.length) {
    out.push(
      `With \`getUser()\` at every read (once every ${phase.readMs ?? 1000} ms), oidc-client-ts stopped renewing without any error (${starved.map((row) => `N=${row.n}: ${row.refreshes === 0 ? 'no refresh at all' : `${row.refreshes} refresh${row.refreshes === 1 ? '' : 'es'}, then none`}`).join('; ')}): each \`getUser()\` calls \`AccessTokenEvents.load\`, which re-arms the expiring timer, and inside the ${phase.refreshMarginS ?? 60} s margin it re-arms it to fire one second later — so a read every second can keep pushing the renewal back until the token expires (whether the timer wins depends on the phase of the two one-second clocks).`,
    );
  }
  return out.map((line) => `- ${line}`).join('\n');
}

/** The summary row for SPEC 10's "exactly 1 — for an OpenID provider". */
export function oidcSummaryRow(oidc) {
  if (!oidc) return ['Refreshes per cycle against an OpenID provider, any N', 'exactly 1', 'not measured in this run', 'not measured'];
  const rows = oidc.phases.flatMap((p) => p.rows).filter((row) => row.kind === 'tabtoken');
  if (!rows.length)
    return [
      'Refreshes per cycle against an OpenID provider, any N',
      'exactly 1',
      `not measured: ${oidc.pending.find((p) => p.kind === 'tabtoken')?.reason ?? 'no tabtoken run'}; the peer is in section 7`,
      '**pending**',
    ];
  const met = rows.every((row) => !row.error && row.refreshesPerCycle === 1 && row.invalidGrants === 0);
  return [
    'Refreshes per cycle against an OpenID provider, any N',
    'exactly 1, no `invalid_grant`',
    rows.map((row) => `${num(row.refreshesPerCycle)} (N=${row.n}, ${row.invalidGrants} invalid_grant)`).join(', '),
    met ? '**met**' : '**missed**',
  ];
}

/** Section 7 of BENCHMARKS.md. */
export function renderOidcSection(oidc) {
  if (!oidc) return '## 7. OpenID Connect: N tabs against a real provider\n\nNot measured in this run.\n';
  const pending = oidc.pending
    .map(
      (p) => `- **${label(p.kind)}**: not run — ${p.reason}. The page code is \`bench/oidc/pages/tabtoken.ts\`; \`bench/oidc/contenders.mjs\` marks it ready.`,
    )
    .join('\n');
  const load = oidc.load
    ? ` Load average (1/5/15 min) at its start ${oidc.load.start.map((v) => v.toFixed(2)).join('/')}, at its end ${oidc.load.end.map((v) => v.toFixed(2)).join('/')}.`
    : '';
  const provisional =
    oidc.mode === 'quick' || oidc.provisional
      ? `> **Provisional:** these figures come from a ${oidc.mode}-mode run on a 2-core machine shared with other work (${oidc.date}).${load} Counts of refreshes, \`invalid_grant\` answers and revocations are what the provider saw; how often tabs collide depends on timing, so the load can change them. \`npm run bench\` measures again.\n`
      : '';
  const phases = oidc.phases
    .map(
      (
        phase,
      ) => `### Access tokens of ${phase.lifetimeS} s, renewal ${phase.refreshMarginS === null ? "at the peer's default 60 s before expiry (tabtoken: its leeway)" : `${phase.refreshMarginS} s before expiry for every contender`}; ${phase.lifetimes} lifetimes (${phase.lifetimes * phase.lifetimeS} s) counted

${phaseTable(phase.rows)}

${observations(phase.rows, { ...phase, readMs: oidc.readMs })}`,
    )
    .join('\n\n');
  return `## 7. OpenID Connect: N tabs against a real provider with refresh-token rotation

${provisional}
The provider: **oidc-provider ${oidc.versions.oidcProvider}** (certified, from npm, \`dev/oidc/\`) on loopback with refresh-token rotation on every use, DPoP off, no clock tolerance, one public client with PKCE. A refresh token presented after it was rotated away makes it revoke the whole grant (every refresh and access token of the sign-in), as OAuth 2.0 Security BCP asks. Both sides on equal terms: the same provider, the same client, rotation on and DPoP off for every contender.

Contenders:
- **tabtoken, shared mode**: \`createTokenManager({ namespace, oidc: { issuer, clientId, redirectUri, dpop: false }, leewayInSeconds })\` from the public entry, built by Vite for production (\`bench/oidc/pages/tabtoken.ts\`): one SharedWorker holds the grant and is the only caller of the token endpoint; signed in with \`signIn()\` and \`handleRedirect()\`; each read is \`getToken()\`.
- **oidc-client-ts ${oidc.versions.oidcClientTs}**, installed from npm and used unmodified: \`new UserManager({ authority, client_id, redirect_uri, response_type: 'code', scope: 'openid offline_access', automaticSilentRenew: true${oidc.phases.some((p) => p.refreshMarginS !== null) ? ', accessTokenExpiringNotificationTimeInSeconds' : ''} })\` (it renews with the refresh token when it holds one, its default), signed in with \`signinRedirect()\` and \`signinRedirectCallback()\`. Set-ups: its user store in localStorage (\`userStore: new WebStorageStateStore({ store: window.localStorage })\`, what multi-tab apps configure so that every tab shares the sign-in) and its default user store, sessionStorage (a tab opened with \`window.open\` starts with a copy of its opener's, so it shares the sign-in too). Reads: the user it last loaded (from \`getUser()\` at start and its \`userLoaded\` event, as react-oidc-context does), or \`await getUser()\` at every read; a read counts a token only while the user is not \`expired\`.
${pending}

${phases}

How it was measured: per run one browser context (its own storage and cookies) and N real tabs. Tab 0 signs in through the provider's authorization endpoint and its development login and consent pages (filled in by \`completeDevLogin\`, with the run's id as the login, which tells the runs' grants apart); the other N − 1 tabs are opened from it with \`window.open\`. Every tab then reads a token every ${oidc.readMs} ms for the window. All counts come from the provider's own events (\`grant.success\`, \`grant.error\`, \`grant.revoked\`; \`dev/oidc/ProviderEventLog.ts\`), not from any client: refreshes are 2xx answers to \`grant_type=refresh_token\` in the window; refresh requests add the error answers; cycles are the refreshed access tokens that the app then read (read by any tab where the user store is shared, by tab 0 for sessionStorage, where each tab keeps its own copy); the reasons of \`invalid_grant\` are the provider's own (\`refresh token already used\`: a rotated token presented again, which revokes the grant; \`refresh token not found\`: a token of a grant already revoked). "Signed out at the end" is a tab without an unexpired user when the window closed; "the provider still accepts" introspects each tab's last token then. Runs of all contenders and sizes read side by side.${oidc.providerErrors?.length ? `\n\nProvider errors outside the token endpoint during the run: ${oidc.providerErrors.map((e) => `\`${e}\``).join(', ')}.` : ''}
`;
}
