/**
 * Drill 7 — hostile origin responses. The origin answers a mint with something that is not a
 * usable token of this session: an HTML page, a cut-off JSON body, a `jwt` that is not a JWT, a
 * token of another session, an expired one, an unsigned one, one whose signature does not verify
 * (with `verify` on), a 5 MB body. Each must be a typed error for the caller, nothing of it may be
 * cached or stored, and the previous token must stay in every tab.
 */
import { describe, expect } from 'vitest';
import { advanceOriginClock, control, signIn } from '../support/origin.ts';
import { defaultKey, faults, mintLog, readStore } from '../support/drills.ts';
import { it } from '../support/fixtures.ts';
import { repeatUntil, uniqueNamespace, waitFor } from '../support/tabs.ts';

const CASES = [
  ['html', 'token_invalid'],
  ['html_error', 'origin_response'],
  ['non_json', 'token_invalid'],
  ['not_jwt', 'token_invalid'],
  ['wrong_sid', 'token_invalid'],
  ['expired', 'token_invalid'],
  ['alg_none', 'token_invalid'],
  ['bad_signature', 'token_invalid'],
  ['huge', 'token_invalid'],
] as const;

describe('drill 7: hostile origin responses', () => {
  it('every hostile answer is a typed error, nothing of it is cached or stored, and the previous token stays in every tab', async ({ tabs }) => {
    const sessionId = await signIn();
    const namespace = uniqueNamespace('hostile');
    const list = await tabs.open(3, { namespace, pollIntervalMs: 1000, verify: { jwksUrl: '/.well-known/jwks.json' } });
    const [caller, ...others] = list;
    const key = defaultKey(sessionId);
    const good = (await caller!.api.manager.getToken()) as string;
    expect(good).toBeTypeOf('string');
    const observed: { kind: string; code: string; status: number | null; ms: number }[] = [];

    for (const [kind, code] of CASES) {
      await faults({ hostile: kind });
      const started = performance.now();
      const error = await caller!.api.manager.getToken({ skipCache: true }).then(
        (jwt) => new Error(`${kind}: resolved ${String(jwt)}`),
        (e: unknown) => e,
      );
      const ms = performance.now() - started;
      expect(error, kind).toBeInstanceOf(caller!.api.TokenError);
      expect((error as { code: string }).code, kind).toBe(code);
      if (code === 'origin_response') expect((error as { status: number }).status, kind).toBe(403);
      observed.push({ kind, code, status: (error as { status?: number }).status ?? null, ms: Math.round(ms) });
      // Not retried: one request per failed call, answered at once (the huge body is cut at 1 MB).
      expect(ms, kind).toBeLessThan(3000);

      // The previous token stays, in the caller and in every other tab, served with no new request.
      for (const tab of list) {
        const snapshot = tab.api.manager.getSnapshot();
        expect(snapshot.tokens[key]?.jwt, kind).toBe(good);
        expect(snapshot.status, kind).toBe('ok');
        expect(tab.api.manager.peekToken(), kind).toBe(good);
        expect(await tab.api.manager.getToken(), kind).toBe(good);
      }
    }

    // Nothing hostile reached IndexedDB, and the good token is still there.
    const stored = await readStore(namespace);
    expect(stored).toContain(good);
    const hostileAnswers = (await mintLog()).filter((r) => r.hostile !== null);
    expect(hostileAnswers.map((r) => r.hostile)).toEqual(CASES.map(([kind]) => kind));
    expect(stored).not.toContain('not-a-jwt');
    expect(stored).not.toContain('AAAAAAAAAAAAAAAA');
    // Every JWT in the store is the good one (stored as the token and as the lastActiveToken).
    expect(new Set(stored.match(/eyJ[\w-]*\.eyJ[\w-]*\.[\w-]*/g))).toEqual(new Set([good]));

    // The errors of background refreshes do not leak either: once the origin is sane, a fresh token flows to every tab.
    await faults({});
    await advanceOriginClock(1000); // a new iat
    const next = (await others[0]!.api.manager.getToken({ skipCache: true })) as string;
    expect(next).not.toBe(good);
    for (const tab of list) await waitFor(() => tab.api.manager.getSnapshot().tokens[key]?.jwt === next, 3000, 'the fresh token in every tab');
    console.info('[drill 7]', JSON.stringify(observed));
  });

  it('a hostile answer to a background refresh keeps the stale token in every tab, is reported, and the next sane answer refreshes it', async ({ tabs }) => {
    await control('/__origin/config', { tokenLifetimeSeconds: 20 });
    const sessionId = await signIn();
    const namespace = uniqueNamespace('hostile-bg');
    const list = await tabs.open(3, { namespace, pollIntervalMs: 1000 });
    const key = defaultKey(sessionId);
    const good = (await list[0]!.api.manager.getToken()) as string;
    const expiresAt = (await waitFor(() => list[0]!.api.manager.getSnapshot().tokens[key], 5000, 'the token in the mirror')).expiresAt;
    await faults({ hostile: 'alg_none' });
    // 20 s tokens with a 15 s leeway: stale after 5 s; read it stale for 3 s more while every refresh gets an unsigned token.
    const staleUntil = expiresAt - 15_000 + 3000;
    await repeatUntil(staleUntil, 100, async () => {
      for (const tab of list) expect(await tab.api.manager.getToken()).toBe(good);
    });
    const refused = (await mintLog()).filter((r) => r.hostile === 'alg_none');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const tab of list) {
      expect(tab.api.events.some((e) => e.type === 'error' && (e.detail as { code?: string }).code === 'token_invalid')).toBe(true);
      expect(tab.api.manager.getSnapshot().tokens[key]?.jwt).toBe(good);
    }
    await faults({});
    const startedAt = Date.now();
    for (const tab of list) {
      await waitFor(
        () => {
          void tab.api.manager.getToken();
          const jwt = tab.api.manager.getSnapshot().tokens[key]?.jwt;
          return jwt !== undefined && jwt !== good;
        },
        4000,
        'a fresh token after the origin is sane again',
      );
    }
    console.info('[drill 7] background: hostile refreshes refused', refused.length, 'fresh token', Date.now() - startedAt, 'ms after the origin was sane');
    expect(await readStore(namespace)).not.toContain('eyJhbGciOiJub25l'); // base64url of '{"alg":"none'
  });
});
