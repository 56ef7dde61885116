/**
 * Loads a contender's code by kind (each its own chunk, so a tab loads only its own contender).
 */
import type { OidcContender, OidcContenderParams } from './OidcContender.ts';

export const KINDS = ['tabtoken', 'oidcClientTsLocal', 'oidcClientTsSession', 'oidcClientTsLocalGetUser'] as const;
export type Kind = (typeof KINDS)[number];

export function kindOf(value: string | null): Kind {
  const kind = KINDS.find((k) => k === value);
  if (!kind) throw new Error(`unknown contender ${JSON.stringify(value)}`);
  return kind;
}

export async function createContender(kind: Kind, params: OidcContenderParams): Promise<OidcContender> {
  switch (kind) {
    case 'tabtoken':
      return (await import('./tabtoken.ts')).createTabtokenOidc(params);
    case 'oidcClientTsLocal':
      return (await import('./oidcClientTs.ts')).createOidcClientTs(params, { store: 'localStorage', read: 'events' });
    case 'oidcClientTsSession':
      return (await import('./oidcClientTs.ts')).createOidcClientTs(params, { store: 'sessionStorage', read: 'events' });
    case 'oidcClientTsLocalGetUser':
      return (await import('./oidcClientTs.ts')).createOidcClientTs(params, { store: 'localStorage', read: 'getUser' });
  }
}

/** The bench server's settings for the tabs. */
export async function loadConfig(): Promise<import('./OidcContender.ts').OidcBenchConfig> {
  const res = await fetch('/bench-oidc/config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`/bench-oidc/config.json answered ${res.status}`);
  return res.json();
}

/** Where the redirect page sends the tab back (a URL of this app, kept for the navigation to the provider; not a token). */
export const RETURN_KEY = 'bench-oidc:return';
