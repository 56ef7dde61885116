/**
 * How tab 0 of a run signs in, over each server's own routes, before its contender starts: the app's
 * `POST /app/session/login` (which sets the `__app_refresh` cookie), or better-auth's sign-up through
 * its own client (which sets its session cookie). The other tabs of the run share the cookie.
 */
import type { TokenServer } from './EndpointContender.ts';

export async function signIn(server: TokenServer, user: string): Promise<void> {
  if (server === 'app') {
    const res = await fetch('/app/session/login', { method: 'POST', body: new URLSearchParams({ user_id: user }) });
    if (!res.ok) throw new Error(`POST /app/session/login answered ${res.status}`);
    return;
  }
  const { createAuthClient } = await import('better-auth/client');
  const { error } = await createAuthClient().signUp.email({ email: `${user.toLowerCase()}@example.com`, password: `pw-${user}-bench`, name: user });
  if (error) throw new Error(`better-auth sign-up failed: ${error.status} ${error.message ?? ''}`);
}
