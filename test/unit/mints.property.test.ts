/**
 * The mint table and the attempt runner, through the engine, on fake time against a scripted
 * origin that holds every mint request until the test answers it: success, 5xx, 429 with
 * Retry-After, 401, 404, 422 `missing_expired_token`, a network error, and answers that land late
 * (after other answers, after time has passed, after a sign-out). Random reads, answers, time and
 * sign-outs; after every step and at the end:
 * - at most one request is in flight per key;
 * - no request is sent before the backoff allows (a reference model of SPEC 5's gate: full
 *   jitter `u · min(30 s, 1 s · 2^n)`, `Retry-After` as a floor up to 5 min, one escalation per
 *   round);
 * - a late answer from before a sign-out is dropped: nothing of the session shows again;
 * - every caller gets a token of its session, `null` only once signed out, or a typed error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BACKOFF_CAP_MS, BACKOFF_FACTOR, BACKOFF_FIRST_MS, RETRY_AFTER_MAX_MS } from '../../protocol/constants.ts';
import { TokenError } from '../../protocol/errors.ts';
import { req, scripted } from './support/engine.ts';
import { FakeClock, flush } from './support/FakeClock.ts';
import { ScriptedOrigin, type Call } from './support/ScriptedOrigin.ts';
import { seeded } from './support/seeded.ts';

type Outcome =
  | { kind: 'ok' }
  | { kind: 'status'; status: 500 | 503 | 401 | 404; code: string }
  | { kind: 'retry-after'; seconds: number }
  | { kind: 'missing-expired-token' }
  | { kind: 'network' };

type Step = { type: 'read'; variant: 0 | 1 | 2 } | { type: 'answer'; pick: number; outcome: Outcome } | { type: 'advance'; ms: number } | { type: 'signout' };

const outcomeArb: fc.Arbitrary<Outcome> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: 'ok' as const }) },
  { weight: 2, arbitrary: fc.constantFrom(500, 503).map((status) => ({ kind: 'status' as const, status, code: 'server_error' })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'status' as const, status: 401 as const, code: 'session_ended' }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'status' as const, status: 404 as const, code: 'template_not_found' }) },
  { weight: 2, arbitrary: fc.constantFrom(1, 5, 20).map((seconds) => ({ kind: 'retry-after' as const, seconds })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'missing-expired-token' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'network' as const }) },
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, 1, 2).map((variant) => ({ type: 'read' as const, variant: variant as 0 | 1 | 2 })) },
  { weight: 5, arbitrary: fc.record({ pick: fc.nat(10), outcome: outcomeArb }).map((a) => ({ type: 'answer' as const, ...a })) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 40_000 }).map((ms) => ({ type: 'advance' as const, ms })) },
  { weight: 1, arbitrary: fc.constant({ type: 'signout' as const }) },
);

const READS = [req(), req({ template: 'api' }), req({ skipCache: true })];

/** SPEC 5's backoff gate, written from the spec: what the engine must never send before. */
class GateModel {
  notBefore = 0;
  #attempt = 0;
  constructor(readonly u: number) {}
  delay(attempt: number, retryAfterS: number | null): number {
    const jitter = Math.floor(this.u * Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * BACKOFF_FACTOR ** attempt));
    return retryAfterS === null ? jitter : Math.max(Math.min(retryAfterS * 1000, RETRY_AFTER_MAX_MS), jitter);
  }
  failure(now: number, retryAfterS: number | null): void {
    if (now >= this.notBefore) this.notBefore = now + this.delay(this.#attempt++, retryAfterS);
    else if (retryAfterS !== null) this.notBefore = Math.max(this.notBefore, now + this.delay(0, retryAfterS));
  }
  success(): void {
    this.notBefore = 0;
    this.#attempt = 0;
  }
}

interface Held {
  call: Call;
  resolve(response: Response): void;
  reject(error: unknown): void;
}

const keyOf = (call: Call) => `${call.sessionId}|${call.template ?? ''}|${call.body.toString()}`;

describe('mint table and attempts (model-based)', () => {
  it('one request per key, never before the backoff, nothing after a sign-out, and every caller answered', { timeout: 300_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 24 }), fc.double({ min: 0, max: 0.999, noNaN: true }), async (steps, u) => {
        const clock = new FakeClock();
        const origin = new ScriptedOrigin(clock);
        const { engine } = await scripted({ clock, origin, random: () => u, tabs: 0 });
        const gate = new GateModel(u);
        const held: Held[] = [];
        let closing = false;
        origin.mintHandler = (call) =>
          new Promise<Response>((resolve, reject) => {
            const h: Held = { call, resolve, reject };
            // Judged when sent: no mint before the backoff allows it.
            if (call.at < gate.notBefore) early.push({ at: call.at, notBefore: gate.notBefore });
            held.push(h);
            // The engine's 10 s request timeout: the request is no longer in flight, and it counts
            // as a retryable failure at that moment.
            call.signal?.addEventListener('abort', () => {
              if (!held.includes(h)) return;
              held.splice(held.indexOf(h), 1);
              if (!closing) gate.failure(clock.now(), null);
            });
          });
        const early: { at: number; notBefore: number }[] = [];
        let signedOut = false;
        const results: Promise<{ ok: boolean; value: unknown; signedOutThen: boolean }>[] = [];

        const answer = async (h: Held, outcome: Outcome) => {
          held.splice(held.indexOf(h), 1);
          const now = clock.now();
          switch (outcome.kind) {
            case 'ok':
              gate.success();
              h.resolve(await origin.mintOk(h.call));
              break;
            case 'status':
              if (outcome.status >= 500) gate.failure(now, null);
              h.resolve(origin.error(outcome.status, outcome.code));
              break;
            case 'retry-after':
              gate.failure(now, outcome.seconds);
              h.resolve(origin.error(429, 'too_many_requests', { 'Retry-After': String(outcome.seconds) }));
              break;
            case 'missing-expired-token':
              h.resolve(origin.error(422, 'missing_expired_token'));
              break;
            case 'network':
              gate.failure(now, null);
              h.reject(new TypeError('Failed to fetch'));
              break;
          }
          await flush();
        };

        const check = () => {
          // At most one request in flight per key.
          const keys = held.map((h) => keyOf(h.call));
          expect(new Set(keys).size).toBe(keys.length);
          expect(early).toEqual([]);
          // After a sign-out, no answer brings anything of the session back.
          if (signedOut) expect(engine.snapshot().tokens).toEqual({});
          if (engine.snapshot().status === 'signed-out') signedOut = true;
        };

        for (const step of steps) {
          if (step.type === 'read') {
            const started = engine.getToken(READS[step.variant]!);
            results.push(
              started.then(
                (value) => ({ ok: true, value, signedOutThen: signedOut || engine.snapshot().status === 'signed-out' }),
                (value: unknown) => ({ ok: false, value, signedOutThen: signedOut }),
              ),
            );
            await flush();
          } else if (step.type === 'answer') {
            const h = held[step.pick % Math.max(1, held.length)];
            if (h) await answer(h, step.outcome);
          } else if (step.type === 'advance') {
            await clock.advance(step.ms);
          } else {
            await engine.setActiveSession(null);
            signedOut = true;
            await flush();
          }
          check();
        }
        // Let everything finish: answer what is held with tokens and let time run past every wait.
        for (let round = 0; round < 20 && (held.length > 0 || round < 3); round++) {
          for (const h of [...held]) await answer(h, { kind: 'ok' });
          await clock.advance(15_000);
          check();
        }
        for (const outcome of await Promise.all(results)) {
          if (outcome.ok && typeof outcome.value === 'string') expect(outcome.value.split('.')).toHaveLength(3);
          else if (outcome.ok) expect(outcome.signedOutThen).toBe(true);
          else expect(outcome.value).toBeInstanceOf(TokenError);
        }
        closing = true;
        engine.close();
      }),
      seeded(1000),
    );
  });
});
