/**
 * The real peer, oidc-client-ts from npm, used unmodified: `UserManager` with `automaticSilentRenew`
 * (its default), renewing with the refresh token (its default when it holds one), against the same
 * provider as tabtoken. Its user store is either localStorage — what multi-tab apps configure so
 * that every tab shares the sign-in — or its default, sessionStorage (one per tab; a tab opened with
 * `window.open` starts with a copy of its opener's).
 *
 * Two ways an app reads the access token before an API call, both counted only while the user is
 * not `expired`:
 * - `'events'`: the user the manager last loaded, kept from `getUser()` at start and its
 *   `userLoaded` / `userUnloaded` events — what react-oidc-context does;
 * - `'getUser'`: `(await userManager.getUser())?.access_token` at every read. Each `getUser()`
 *   re-arms the manager's expiring timer (`AccessTokenEvents.load`), so this changes when it renews.
 */
import { UserManager, WebStorageStateStore, type User, type UserManagerSettings } from 'oidc-client-ts';
import type { OidcContender, OidcContenderParams } from './OidcContender.ts';

export interface OidcClientTsSetup {
  store: 'localStorage' | 'sessionStorage';
  read: 'events' | 'getUser';
}

export function createOidcClientTs(params: OidcContenderParams, setup: OidcClientTsSetup): OidcContender {
  const settings: UserManagerSettings = {
    authority: params.issuer,
    client_id: params.clientId,
    redirect_uri: params.redirectUri,
    response_type: 'code',
    scope: 'openid offline_access',
    automaticSilentRenew: true,
    ...(params.refreshMarginS === null ? {} : { accessTokenExpiringNotificationTimeInSeconds: params.refreshMarginS }),
    ...(setup.store === 'localStorage' ? { userStore: new WebStorageStateStore({ store: window.localStorage }) } : {}),
  };
  const manager = new UserManager(settings);
  let loaded: User | null = null;
  manager.events.addUserLoaded((user) => {
    loaded = user;
  });
  manager.events.addUserUnloaded(() => {
    loaded = null;
  });
  const valid = (user: User | null): User | null => (user && !user.expired ? user : null);
  const current = async (): Promise<User | null> => valid(setup.read === 'getUser' ? await manager.getUser() : loaded);
  return {
    ready: manager.getUser().then((user) => {
      loaded = user;
    }),
    signIn: () => manager.signinRedirect(),
    handleRedirect: async (url) => {
      await manager.signinRedirectCallback(url);
    },
    read: async () => (await current())?.access_token ?? null,
    signedIn: async () => valid(await manager.getUser()) !== null,
    close: () => manager.stopSilentRenew(),
  };
}
