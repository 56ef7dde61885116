/**
 * Measurement 2: read latency in a tab, in any engine (`page` is a tab of the engine-neutral driver,
 * whose `evaluate` has playwright's shape). One tab per contender, its token fresh, times the app's read
 * in batches (SPEC section 10: at least 100 batches of 10 000 calls; the figures are the median and
 * p99 of the per-call batch means), the synchronous read where there is one, and — for tabtoken in
 * shared mode — one comlink round trip to the worker (`tokens.stats()`), timed the same way in the
 * same page. The bench pages are cross-origin isolated, so each engine gives them its finest timer
 * (5–20 µs); a batch of 10 000 calls lasts milliseconds, so even 100 µs is at most 0.01 µs per call.
 */
import { percentile } from '../lib/stats.mjs';
import { CONTENDERS } from '../lib/tabs.mjs';

function figures(run) {
  if (!run) return null;
  return {
    callsPerBatch: run.callsPerBatch,
    batches: run.batchMeansUs.length,
    medianUs: percentile(run.batchMeansUs, 50),
    p99Us: percentile(run.batchMeansUs, 99),
  };
}

/**
 * Times one contender in `page` (a signed-in tab with a fresh token). `spec`: `{ batches, calls,
 * warmup, roundTripBatches, roundTripCalls }`; `slowCalls` replaces `calls` for Supabase, whose read
 * parses localStorage each time and takes microseconds, so the run stays short; the report says so.
 */
export async function measureLatency({ page, kind, spec, slowCalls, log }) {
  const calls = kind === 'supabase' ? slowCalls : spec.calls;
  const result = await page.evaluate((s) => globalThis.bench.latency(s), { ...spec, calls });
  const row = {
    kind,
    read: figures(result.read),
    // The engine's floor: an awaited call returning an already-resolved promise, timed the same way.
    floor: figures(result.floor),
    peek: figures(result.peek),
    // Only the shared mode has a worker to make a round trip to; in local mode stats() is a call
    // into the engine in the same tab, which is not what the budget compares against.
    roundTrip: kind === 'shared' ? figures(result.roundTrip) : null,
  };
  log(
    `  ${CONTENDERS[kind].label}: read p50 ${row.read.medianUs.toFixed(3)} µs (floor ${row.floor.medianUs.toFixed(3)} µs)${row.peek ? `, peek p50 ${row.peek.medianUs.toFixed(3)} µs` : ''}${row.roundTrip ? `, round trip p50 ${row.roundTrip.medianUs.toFixed(1)} µs` : ''}`,
  );
  return row;
}
