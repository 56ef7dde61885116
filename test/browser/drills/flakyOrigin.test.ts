/**
 * Drill 5 — a flaky origin: 30 % of mints answer 503 and every mint takes a random 0–2 s, for
 * several refresh cycles of three keys read by five tabs. No getToken call may fail while the tab
 * holds a valid token; retries must follow the backoff (one request per key at a time, each retry
 * within the ceiling of its attempt, not at once), and each token still costs one mint.
 */
import { describe, expect } from 'vitest';
import type { GetTokenOptions } from '../../../client/index.ts';
import { control, signIn } from '../support/origin.ts';
import { faults, mintLog, type MintRecord } from '../support/drills.ts';
import { it } from '../support/fixtures.ts';
import { repeatUntil, uniqueNamespace, waitFor } from '../support/tabs.ts';

/** The ceiling of backoff attempt n (SPEC 5: first 1 s, factor 2, cap 30 s). */
const ceilingMs = (attempt: number): number => Math.min(30_000, 1000 * 2 ** attempt);

const READS: { name: string; options: GetTokenOptions | undefined; template: string | null; key: (sid: string) => string }[] = [
  { name: 'default', options: undefined, template: null, key: (sid) => `${sid}|||` },
  { name: 'api', options: { template: 'api' }, template: 'api', key: (sid) => `${sid}|api||` },
  { name: 'short', options: { template: 'short' }, template: 'short', key: (sid) => `${sid}|short||` },
];

describe('drill 5: flaky origin', () => {
  it('with 30 % of mints failing and 0–2 s of latency, no read fails while a valid token is held and retries follow the backoff', { timeout: 120_000 }, async ({
    tabs,
  }) => {
    await control('/__origin/config', { tokenLifetimeSeconds: 20 });
    const sessionId = await signIn();
    const list = await tabs.open(5, { namespace: uniqueNamespace('flaky'), pollIntervalMs: 1000 });
    for (const read of READS) await list[0]!.api.manager.getToken(read.options);
    await faults({ errorRate: 0.3, status: 503, jitterMs: 2000 });
    const startedAt = Date.now();

    const seen = new Map<string, Set<string>>(READS.map((r) => [r.name, new Set<string>()]));
    let calls = 0;
    const failures: { name: string; heldValid: boolean; error: unknown }[] = [];
    // At least 25 s (five refresh cycles of a 20 s token), and until the origin has refused at least three mints.
    const failedMints = async () => (await mintLog()).filter((r) => r.status === 503).length;
    const more = async () => Date.now() - startedAt < 25_000 || ((await failedMints()) < 3 && Date.now() - startedAt < 60_000);
    await repeatUntil(more, 100, () =>
      Promise.all(
        list.flatMap((tab) =>
          READS.map(async (read) => {
            const held = tab.api.manager.getSnapshot().tokens[read.key(sessionId)];
            const heldValid = held !== undefined && held.expiresAt > Date.now();
            calls++;
            try {
              const jwt = await tab.api.manager.getToken(read.options);
              expect(jwt).toBeTypeOf('string');
              seen.get(read.name)!.add(jwt as string);
            } catch (error) {
              failures.push({ name: read.name, heldValid, error });
            }
          }),
        ),
      ),
    );
    await faults({});
    // The retries of the last refused mints are still waiting out their backoff: let them land, so
    // every refusal has the request that followed it.
    const log = await waitFor(
      async () => {
        const records = (await mintLog()).sort((a, b) => a.at - b.at);
        const unanswered = records.filter((r, i) => r.status === 503 && !records.slice(i + 1).some((n) => n.template === r.template));
        return unanswered.length === 0 && records;
      },
      40_000,
      'a request after every refused mint',
    );

    // No read failed while the tab held a valid token (in the recorded runs none failed at all).
    expect(failures.filter((f) => f.heldValid)).toEqual([]);

    // One request per key at a time: deduplicated across the five tabs, never overlapping.
    const byKey = new Map<string | null, MintRecord[]>();
    for (const r of log) byKey.set(r.template, [...(byKey.get(r.template) ?? []), r]);
    for (const records of byKey.values()) {
      for (let i = 1; i < records.length; i++) expect(records[i]!.at).toBeGreaterThanOrEqual(records[i - 1]!.at + records[i - 1]!.ms - 20);
    }

    // Each retry comes within the ceiling of its attempt. The engine counts attempts origin-wide, in
    // the order answers land (a success resets them), and several keys failing in one round count
    // once: with n failures landed since the last success, its attempt is at most n − 1. And the
    // retries are not immediate: full jitter, not a storm.
    const landed = [...log].sort((a, b) => a.at + a.ms - (b.at + b.ms));
    const gaps: number[] = [];
    let run = 0;
    for (const r of landed) {
      if (r.status !== 503) {
        if (r.status === 200) run = 0;
        continue;
      }
      run++;
      const end = r.at + r.ms;
      const next = (byKey.get(r.template) ?? []).find((n) => n.at >= end - 20);
      if (!next) continue;
      const gap = next.at - end;
      gaps.push(gap);
      expect(gap).toBeLessThanOrEqual(ceilingMs(run - 1) + 300);
    }
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    const meanGap = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(meanGap).toBeGreaterThan(50);

    // Every token any tab saw came from one mint: one mint per refresh cycle of each key.
    for (const read of READS) {
      const minted = log.filter((r) => r.template === read.template && r.status === 200 && r.at >= startedAt).length;
      const tokens = seen.get(read.name)!.size - 1; // the first one was minted before the faults
      expect(minted, read.name).toBeGreaterThanOrEqual(tokens);
      expect(minted, read.name).toBeLessThanOrEqual(tokens + 1);
    }
    console.info(
      '[drill 5]',
      JSON.stringify({
        durationMs: Date.now() - startedAt,
        calls,
        failedCalls: failures.length,
        requests: log.filter((r) => r.at >= startedAt).length,
        refused: log.filter((r) => r.status === 503).length,
        minted: log.filter((r) => r.status === 200 && r.at >= startedAt).length,
        tokensSeen: Object.fromEntries([...seen].map(([k, v]) => [k, v.size])),
        retryGapMs: { mean: Math.round(meanGap), max: Math.max(...gaps), n: gaps.length },
        maxLatencyMs: Math.max(...log.map((r) => r.ms)),
      }),
    );
  });
});
