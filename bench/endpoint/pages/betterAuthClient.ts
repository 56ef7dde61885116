/**
 * better-auth's own client from npm, unmodified: `createAuthClient({ plugins: [jwtClient()] })` from
 * `better-auth/client`, and `authClient.token()` in every tab at every read — the call its JWT
 * documentation gives for getting a token for another service. The client keeps no token: each call
 * is a `GET /api/auth/token`, answered from the session cookie (which better-auth does not rotate).
 */
import { createAuthClient } from 'better-auth/client';
import { jwtClient } from 'better-auth/client/plugins';
import type { EndpointContender, ReadOutcome } from './EndpointContender.ts';

export function createBetterAuthClient(): EndpointContender {
  const authClient = createAuthClient({ plugins: [jwtClient()] });
  let signedOut = false;
  const read = async (): Promise<ReadOutcome> => {
    const { data, error } = await authClient.token();
    if (error) {
      if (error.status === 401 || error.status === 403) signedOut = true;
      return { tokens: [], apiStatus: null };
    }
    return { tokens: data?.token ? [data.token] : [], apiStatus: null };
  };
  return { ready: Promise.resolve(), read, signedOut: () => signedOut, close: () => undefined };
}
