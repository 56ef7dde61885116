/**
 * The contenders of the token-endpoint benchmark, in the order the tables show them.
 * `server`: where its tokens come from — `app`, the development origin's app session routes (a
 * refresh cookie rotated at every call, reuse detection with no grace interval), or `betterAuth`,
 * the real better-auth server (`GET /api/auth/token` from its session cookie, no rotation).
 * `cache`: `shared`, one cache serves every tab (a minted token read by any tab is a cycle);
 * `perTab`, each tab keeps its own token (tab 0's tokens are the cycles); `none`, the contender keeps
 * no token at all and asks at every read (tab 0's tokens are the cycles, so one per read).
 * `ready: false` keeps a contender out of the runs (the report says so).
 */
export const ENDPOINT_CONTENDERS = {
  tabtokenApp: { label: 'tabtoken, `endpoint` (shared mode)', server: 'app', cache: 'shared', ready: true },
  axiosAuthRefresh: { label: 'axios-auth-refresh, one axios instance per tab', server: 'app', cache: 'perTab', ready: true },
  tabtokenBetterAuth: { label: "tabtoken, `endpoint` with `method: 'GET'` (shared mode)", server: 'betterAuth', cache: 'shared', ready: true },
  betterAuthClient: { label: "better-auth's client, `authClient.token()` at every read", server: 'betterAuth', cache: 'none', ready: true },
};
