/**
 * Loads a contender's code by kind (each its own chunk, so a tab loads only its own contender).
 */
import type { EndpointContender, EndpointContenderParams, TokenServer } from './EndpointContender.ts';

export const KINDS = ['tabtokenApp', 'axiosAuthRefresh', 'tabtokenBetterAuth', 'betterAuthClient'] as const;
export type Kind = (typeof KINDS)[number];

/** The server each contender's tokens come from, and so how tab 0 signs in. */
export const SERVER_OF: Record<Kind, TokenServer> = {
  tabtokenApp: 'app',
  axiosAuthRefresh: 'app',
  tabtokenBetterAuth: 'betterAuth',
  betterAuthClient: 'betterAuth',
};

export function kindOf(value: string | null): Kind {
  const kind = KINDS.find((k) => k === value);
  if (!kind) throw new Error(`unknown contender ${JSON.stringify(value)}`);
  return kind;
}

export async function createContender(kind: Kind, params: EndpointContenderParams): Promise<EndpointContender> {
  switch (kind) {
    case 'tabtokenApp':
      return (await import('./tabtoken.ts')).createTabtokenEndpoint(params, 'app');
    case 'tabtokenBetterAuth':
      return (await import('./tabtoken.ts')).createTabtokenEndpoint(params, 'betterAuth');
    case 'axiosAuthRefresh':
      return (await import('./axiosAuthRefresh.ts')).createAxiosAuthRefresh();
    case 'betterAuthClient':
      return (await import('./betterAuthClient.ts')).createBetterAuthClient();
  }
}
