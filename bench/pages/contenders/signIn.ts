/**
 * The benchmark's sign-in on the development origin's Frontend API (Clerk shape): a session for this
 * browser context, which tabtoken and the baselines then discover with `GET /v1/client`. Its own
 * module, so a baseline tab does not load tabtoken's code just to sign in.
 */
export async function signIn(identifier: string): Promise<void> {
  const res = await fetch('/v1/client/sign_ins', { method: 'POST', body: new URLSearchParams({ identifier }) });
  if (!res.ok) throw new Error(`sign-in answered ${res.status}`);
}
