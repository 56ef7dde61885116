/**
 * The contenders of the OpenID Connect benchmark, in the order the table shows them. `ready: false`
 * keeps a contender out of the runs (the report says so) until its page code exists.
 * `sharedCache`: one cache serves every tab (a refreshed token read by any tab is a cycle of the
 * sign-in); otherwise each tab has its own and tab 0's turns are the cycles.
 */
export const OIDC_CONTENDERS = {
  tabtoken: { label: 'tabtoken (OIDC, shared mode)', sharedCache: true, ready: true },
  oidcClientTsLocal: { label: 'oidc-client-ts, localStorage, reads its loaded user', sharedCache: true, ready: true },
  oidcClientTsSession: { label: 'oidc-client-ts, default sessionStorage, reads its loaded user', sharedCache: false, ready: true },
  oidcClientTsLocalGetUser: { label: 'oidc-client-ts, localStorage, `getUser()` at every read', sharedCache: true, ready: true },
};
