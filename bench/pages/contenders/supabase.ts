/**
 * The real peer, `@supabase/auth-js` from npm, used unmodified with its defaults (localStorage,
 * auto-refresh ticker, BroadcastChannel between tabs, no lock), against the development origin's
 * Supabase Auth route. The read is what Supabase documents for getting the access token before an
 * API call: `getSession()`.
 */
import { GoTrueClient } from '@supabase/auth-js';
import type { Contender, ContenderParams } from './Contender.ts';

export function createSupabase(params: ContenderParams): Contender {
  const auth = new GoTrueClient({ url: `${location.origin}/auth/v1` });
  const ready = (async () => {
    await auth.initialize();
    if (!params.signIn) return;
    const { error } = await auth.signInWithPassword({ email: `${params.namespace}@bench.test`, password: 'bench' });
    if (error) throw error;
  })();
  return {
    ready,
    read: async () => (await auth.getSession()).data.session?.access_token ?? null,
    onChange(listener) {
      auth.onAuthStateChange((_event, session) => {
        if (session) listener(session.access_token);
      });
    },
    close: () => void auth.dispose(),
  };
}
