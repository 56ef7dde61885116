/**
 * The two requests the baselines make to the development origin, the same routes tabtoken uses
 * (Clerk Frontend API shapes), so every contender costs the origin the same kind of request.
 */

/** A token as a baseline caches it. */
export interface CachedToken {
  jwt: string;
  /** Local time (ms) at which it expires. */
  expiresAt: number;
}

function claimsOf(jwt: string): { exp: number; iat: number } {
  const part = jwt.split('.')[1] ?? '';
  const json: unknown = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));
  if (typeof json !== 'object' || json === null || !('exp' in json) || !('iat' in json) || typeof json.exp !== 'number' || typeof json.iat !== 'number') {
    throw new Error('the origin answered a token without numeric exp and iat');
  }
  return { exp: json.exp, iat: json.iat };
}

/** The active session of this browser (`GET /v1/client`), as tabtoken discovers it. */
export async function discoverSession(): Promise<string> {
  const res = await fetch('/v1/client', { credentials: 'include' });
  const body = (await res.json()) as { response: { last_active_session_id: string | null } | null };
  const id = body.response?.last_active_session_id;
  if (!res.ok || !id) throw new Error(`no active session (GET /v1/client answered ${res.status})`);
  return id;
}

/**
 * Mints the session's default token. Its expiry is measured from the moment it arrives with the
 * token's own lifetime (`exp − iat`), as a careful SDK does so a skewed client clock cannot shorten
 * or stretch it; on one machine this equals reading `exp` against the clock.
 */
export async function mintToken(sessionId: string): Promise<CachedToken> {
  const res = await fetch(`/v1/client/sessions/${encodeURIComponent(sessionId)}/tokens`, { method: 'POST', credentials: 'include' });
  if (!res.ok) throw new Error(`mint answered ${res.status}`);
  const { jwt } = (await res.json()) as { jwt: string };
  const { exp, iat } = claimsOf(jwt);
  return { jwt, expiresAt: Date.now() + (exp - iat) * 1000 };
}
