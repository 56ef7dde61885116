/**
 * Drill 1 — the origin is down (503 on every token route) for longer than a token lifetime, with
 * ten tabs reading. Every tab keeps getting the cached token until its real expiry (the hard cutoff
 * no longer applies), every tab says `degraded`; past the expiry every tab gets `origin_unavailable`
 * — never `null`, which would mean signed out. When the origin is back: one mint, `ok` everywhere.
 */
import { describe, expect } from 'vitest';
import { control, sessionMints, signIn } from '../support/origin.ts';
import { defaultKey, hasCode, mintLog } from '../support/drills.ts';
import { it } from '../support/fixtures.ts';
import { readAll, repeatUntil, uniqueNamespace, waitFor } from '../support/tabs.ts';

describe('drill 1: origin down', () => {
  it('ten tabs serve the cached token until its real expiry, then origin_unavailable, never null; the origin back costs one mint', {
    timeout: 150_000,
  }, async ({ tabs }) => {
    await control('/__origin/config', { tokenLifetimeSeconds: 20 });
    const sessionId = await signIn();
    const namespace = uniqueNamespace('down');
    const list = await tabs.open(10, { namespace, pollIntervalMs: 1000 });
    const key = defaultKey(sessionId);
    const token = (await list[0]!.api.manager.getToken()) as string;
    // The token reaches the mirror over the channel, which may land after the call's own reply.
    const { expiresAt } = await waitFor(() => list[0]!.api.manager.getSnapshot().tokens[key], 5000, 'the token in the mirror');
    await control('/__origin/outage', { mode: 'down' });
    const downAt = Date.now();

    // Phase 1: read every tab every 100 ms until just before the token's real expiry.
    let reads = 0;
    let lastServedAt = 0;
    let degradedAt: number | null = null;
    await repeatUntil(expiresAt - 150, 100, async () => {
      const at = Date.now();
      const jwts = await readAll(list);
      for (const jwt of jwts) expect(jwt).toBe(token);
      reads += jwts.length;
      lastServedAt = at;
      const statuses = new Set(list.map((t) => t.api.manager.getSnapshot().status));
      if (degradedAt === null && statuses.size === 1 && statuses.has('degraded')) degradedAt = Date.now();
      if (degradedAt !== null) expect([...statuses]).toEqual(['degraded']);
    });
    expect(degradedAt).not.toBeNull();
    // Served later than the hard cutoff (one poll interval before expiry) would have allowed.
    expect(expiresAt - lastServedAt).toBeLessThan(1000);

    // Phase 2: past the real expiry, every tab rejects origin_unavailable (after waiting for a retry), never null.
    await waitFor(() => Date.now() > expiresAt + 100, 5000, 'the token’s real expiry to pass on this page’s clock', 10);
    for (const tab of list) expect(tab.api.manager.peekToken()).toBeNull();
    const started = Date.now();
    const outcomes = await Promise.all(
      list.map((t) =>
        t.api.manager.getToken().then(
          (jwt) => ({ jwt }),
          (error: unknown) => ({ error }),
        ),
      ),
    );
    const waited = Date.now() - started;
    for (const outcome of outcomes) {
      expect('error' in outcome).toBe(true);
      if ('error' in outcome) expect(hasCode(outcome.error, 'origin_unavailable')).toBe(true);
    }
    expect(waited).toBeGreaterThanOrEqual(9000);
    expect(waited).toBeLessThan(13_000);
    for (const tab of list) {
      expect(tab.api.manager.getSnapshot().status).toBe('degraded');
      expect(tab.api.events.some((e) => e.type === 'signout')).toBe(false);
    }

    // Phase 3: the origin comes back; the parked retry goes out when the backoff allows: one mint, ok everywhere.
    const before = await sessionMints(sessionId);
    const failedDuringOutage = (await mintLog()).filter((r) => r.status === 503).length;
    await control('/__origin/outage', { mode: 'off' });
    const backAt = Date.now();
    for (const tab of list) await waitFor(() => tab.api.manager.getSnapshot().status === 'ok', 40_000, 'ok in every tab');
    const recoveredIn = Date.now() - backAt;
    const fresh = (await waitFor(() => list[0]!.api.manager.getSnapshot().tokens[key], 5000, 'the new token in the mirror')).jwt;
    expect(fresh).not.toBe(token);
    for (const tab of list) {
      // The new token reaches each tab over the channel; under load that can take a moment.
      await waitFor(() => tab.api.manager.peekToken() === fresh, 5000, 'the new token in every tab');
      expect(await tab.api.manager.getToken()).toBe(fresh);
    }
    expect((await sessionMints(sessionId)) - before).toBe(1);
    console.info(
      '[drill 1]',
      JSON.stringify({
        reads,
        outageMs: backAt - downAt,
        servedUntilMsBeforeExpiry: expiresAt - lastServedAt,
        degradedAfterMs: (degradedAt ?? 0) - downAt,
        unavailableAfterMs: waited,
        failedRequests: failedDuringOutage,
        recoveredInMs: recoveredIn,
      }),
    );
  });
});
