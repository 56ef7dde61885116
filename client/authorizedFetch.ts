/**
 * `tokens.fetch`: `fetch` with `Authorization: Bearer <token>` for the page's own origin and the
 * `fetchOrigins` list only, and one retry with a freshly minted token on a 401.
 */
import type { GetTokenOptions } from '../protocol/types.ts';

interface TokenSource {
  getToken(options?: GetTokenOptions): Promise<string | null>;
}

function mayReplay(init: RequestInit | undefined, request: Request): boolean {
  // A stream body can be read once; everything else can be sent again.
  return request.body === null || !(init?.body instanceof ReadableStream);
}

export async function authorizedFetch(source: TokenSource, fetchOrigins: readonly string[], input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  const target = new URL(request.url).origin;
  const allowed = (typeof location !== 'undefined' && target === location.origin) || fetchOrigins.includes(target);
  if (!allowed) return fetch(request);
  const replayable = mayReplay(init, request);
  const spare = replayable ? request.clone() : null;

  const send = async (req: Request, options?: GetTokenOptions): Promise<Response> => {
    const token = await source.getToken(options);
    const headers = new Headers(req.headers);
    if (token !== null) headers.set('Authorization', `Bearer ${token}`);
    return fetch(new Request(req, { headers }));
  };

  const response = await send(request);
  // A 401 from the app's own server means "this token was not accepted": one retry with a new
  // token, never a sign-out (only the token origin decides that).
  if (response.status !== 401 || !spare) return response;
  return send(spare, { skipCache: true });
}
