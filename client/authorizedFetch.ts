/**
 * `tokens.fetch`: `fetch` with the token for the page's own origin and the `fetchOrigins` list only
 * (never to any other origin), and one retry with a newer token on a 401. A DPoP-bound
 * token (OpenID Connect, SPEC 11) goes as `Authorization: DPoP <token>` with a proof the engine
 * signs for this one request; a resource server's `use_dpop_nonce` is answered once with its nonce.
 */
import type { GetTokenOptions, ProofRequest } from '../protocol/types.ts';

/** What the helper needs of the manager. */
export interface TokenSource {
  getToken(options?: GetTokenOptions): Promise<string | null>;
  /** The cached token when it is usable now, else null (`peekToken`). */
  peekToken(): string | null;
  /** A token newer than `refused`: the worker's cached one when it is another, else a new one (shared with any mint in flight). */
  renew(refused: string): Promise<string | null>;
  /** Whether `token` is DPoP-bound (its snapshot entry says so). */
  isDpop(token: string): boolean;
  /** A proof signed by the engine with the grant's key. */
  proof(request: ProofRequest): Promise<string>;
}

function mayReplay(init: RequestInit | undefined, request: Request): boolean {
  // A stream body can be read once; everything else can be sent again.
  return request.body === null || !(init?.body instanceof ReadableStream);
}

/** The nonce of a `WWW-Authenticate: DPoP error="use_dpop_nonce"` answer, or null. */
function nonceAsked(response: Response): string | null {
  return response.status === 401 && /\bDPoP\b.*use_dpop_nonce/is.test(response.headers.get('www-authenticate') ?? '')
    ? response.headers.get('dpop-nonce')
    : null;
}

export async function authorizedFetch(source: TokenSource, fetchOrigins: readonly string[], input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  const target = new URL(request.url).origin;
  const allowed = (typeof location !== 'undefined' && target === location.origin) || fetchOrigins.includes(target);
  if (!allowed) return fetch(request);
  const replayable = mayReplay(init, request);
  const spares = replayable ? [request.clone(), request.clone()] : [];

  let sent: string | null = null;
  const send = async (req: Request, next: () => Promise<string | null>, nonce: string | null = null): Promise<Response> => {
    const token = await next();
    sent = token;
    const headers = new Headers(req.headers);
    if (token !== null && source.isDpop(token)) {
      headers.set('Authorization', `DPoP ${token}`);
      headers.set('DPoP', await source.proof({ htm: req.method, htu: req.url, token, nonce }));
    } else if (token !== null) {
      headers.set('Authorization', `Bearer ${token}`);
    }
    return fetch(new Request(req, { headers }));
  };

  const current = () => source.getToken();
  let response = await send(request, current);
  const nonce = nonceAsked(response);
  if (nonce !== null && spares[0]) response = await send(spares[0], current, nonce);
  // A 401 from the app's own server means "this token was not accepted": one retry with a newer
  // token, never a sign-out (only the token origin decides that). Newer is the cached one when it
  // has changed meanwhile — when every tab meets a 401 at once (a laptop waking), the first tab's
  // mint serves the others — else a new one (shared with any mint in flight). The tab's mirror may
  // not show the new token yet, so the worker, which has it first, is asked with the refused token:
  //
  //   tab A  ─ GET /api ─ 401 ─ renew(T1) ─ worker: T1 cached → mint ─ T2 ─ GET /api ─ 200
  //   tab B  ─ GET /api ─────────── 401 ─ renew(T1) ─ worker: T2 cached, not T1 → T2 ─ GET /api ─ 200
  if (response.status !== 401 || !spares[1]) return response;
  const refused = sent;
  const cached = source.peekToken();
  const newer = () =>
    cached !== null && cached !== refused ? Promise.resolve(cached) : refused === null ? source.getToken({ skipCache: true }) : source.renew(refused);
  return send(spares[1], newer, nonceAsked(response));
}
