/**
 * The fault controls under `/__origin/`, served only with `faults: true` and only to loopback
 * callers (the dispatcher enforces both). Bodies are JSON only. What the faults do to the token
 * routes is in `faultInjection.ts`.
 */
import { readParams, sendJson } from './http.ts';
import { integerParam } from './params.ts';
import { isIntegerInRange, MAX_TOKEN_LIFETIME_S, MIN_TOKEN_LIFETIME_S } from './options.ts';
import { MAX_REFRESH_REUSE_INTERVAL_S } from './AppSessions.ts';
import { HOSTILE_KINDS, NO_FAULTS, type Faults, type HostileKind, type OriginState, type OutageMode } from './OriginState.ts';
import { OriginHttpError } from './OriginHttpError.ts';
import type { Route } from './routes.ts';

/** Largest injected latency. */
export const MAX_LATENCY_MS = 60_000;

/** Largest step of one `POST /__origin/clock` (a day). */
export const MAX_CLOCK_ADVANCE_MS = 86_400_000;

const OUTAGE_MODES: readonly OutageMode[] = ['off', 'missing_expired_token', 'down'];

function invalid(name: string, rule: string): OriginHttpError {
  return new OriginHttpError(422, 'form_param_invalid', `${name} is invalid`, `${name} ${rule}.`);
}

/** `POST /__origin/outage { mode }` → `{ mode }`. */
const outage: Route = {
  method: 'POST',
  pattern: /^\/__origin\/outage$/,
  name: null,
  control: true,
  async handle(ctx, { req, res }) {
    const { mode } = await readParams(req, 'json');
    const found = OUTAGE_MODES.find((m) => m === mode);
    if (!found) throw invalid('mode', `must be one of ${OUTAGE_MODES.join(', ')}`);
    ctx.state.outage = found;
    sendJson(res, 200, { mode: found });
  },
};

/**
 * `POST /__origin/faults { latencyMs?, jitterMs?, errorRate?, status?, hostile? }` → the faults now
 * in force. Each call replaces them all; a field left out takes its default (0, 0, 0, 503, none), so
 * `{}` clears the faults. `jitterMs` adds a random latency in [0, jitterMs); `hostile` answers every
 * mint that passed its checks with a broken or malicious body instead of a token (`HostileKind`).
 * The answer names `jitterMs` and `hostile` only when they are set.
 */
const faults: Route = {
  method: 'POST',
  pattern: /^\/__origin\/faults$/,
  name: null,
  control: true,
  async handle(ctx, { req, res }) {
    const {
      latencyMs = NO_FAULTS.latencyMs,
      jitterMs = NO_FAULTS.jitterMs,
      errorRate = NO_FAULTS.errorRate,
      status = NO_FAULTS.status,
      hostile = NO_FAULTS.hostile,
    } = await readParams(req, 'json');
    if (!isIntegerInRange(latencyMs, 0, MAX_LATENCY_MS)) throw invalid('latencyMs', `must be an integer from 0 to ${MAX_LATENCY_MS}`);
    if (!isIntegerInRange(jitterMs, 0, MAX_LATENCY_MS)) throw invalid('jitterMs', `must be an integer from 0 to ${MAX_LATENCY_MS}`);
    if (latencyMs + jitterMs > MAX_LATENCY_MS) throw invalid('latencyMs + jitterMs', `must be at most ${MAX_LATENCY_MS}`);
    if (typeof errorRate !== 'number' || !(errorRate >= 0 && errorRate <= 1)) throw invalid('errorRate', 'must be a number from 0 to 1');
    if (!isIntegerInRange(status, 400, 599)) throw invalid('status', 'must be an integer HTTP error status from 400 to 599');
    const kind = hostile === null ? null : HOSTILE_KINDS.find((k) => k === hostile);
    if (kind === undefined) throw invalid('hostile', `must be null or one of ${HOSTILE_KINDS.join(', ')}`);
    ctx.state.faults = { latencyMs, jitterMs, errorRate, status, hostile: kind };
    sendJson(res, 200, faultsView(ctx.state.faults));
  },
};

/** The faults as the control answers them: the three original fields, plus the newer ones when set. */
function faultsView(f: Readonly<Faults>): { latencyMs: number; errorRate: number; status: number; jitterMs?: number; hostile?: HostileKind } {
  return {
    latencyMs: f.latencyMs,
    errorRate: f.errorRate,
    status: f.status,
    ...(f.jitterMs > 0 ? { jitterMs: f.jitterMs } : {}),
    ...(f.hostile !== null ? { hostile: f.hostile } : {}),
  };
}

/** The settings `/__origin/config` changes, as they are in force. */
function configView(state: OriginState): { tokenLifetimeSeconds: number; refreshReuseIntervalSeconds: number } {
  return { tokenLifetimeSeconds: state.tokenLifetimeSeconds, refreshReuseIntervalSeconds: state.app.refreshReuseIntervalSeconds };
}

/**
 * `POST /__origin/config { tokenLifetimeSeconds?, refreshReuseIntervalSeconds? }` → the settings now
 * in force. Changes the default token lifetime (of the frontend and the app session tokens) and the
 * app session routes' reuse interval until the next reset. A body setting neither is refused, and
 * both are checked before either is applied, so a refused body changes nothing.
 */
const setConfig: Route = {
  method: 'POST',
  pattern: /^\/__origin\/config$/,
  name: null,
  control: true,
  async handle(ctx, { req, res }) {
    const { tokenLifetimeSeconds, refreshReuseIntervalSeconds } = await readParams(req, 'json');
    if (tokenLifetimeSeconds === undefined && refreshReuseIntervalSeconds === undefined) {
      throw invalid('The body', 'must set tokenLifetimeSeconds or refreshReuseIntervalSeconds');
    }
    if (tokenLifetimeSeconds !== undefined && !isIntegerInRange(tokenLifetimeSeconds, MIN_TOKEN_LIFETIME_S, MAX_TOKEN_LIFETIME_S)) {
      throw invalid('tokenLifetimeSeconds', `must be an integer from ${MIN_TOKEN_LIFETIME_S} to ${MAX_TOKEN_LIFETIME_S}`);
    }
    if (refreshReuseIntervalSeconds !== undefined && !isIntegerInRange(refreshReuseIntervalSeconds, 0, MAX_REFRESH_REUSE_INTERVAL_S)) {
      throw invalid('refreshReuseIntervalSeconds', `must be an integer from 0 to ${MAX_REFRESH_REUSE_INTERVAL_S}`);
    }
    if (tokenLifetimeSeconds !== undefined) ctx.state.tokenLifetimeSeconds = tokenLifetimeSeconds;
    if (refreshReuseIntervalSeconds !== undefined) ctx.state.app.refreshReuseIntervalSeconds = refreshReuseIntervalSeconds;
    sendJson(res, 200, configView(ctx.state));
  },
};

/** `GET /__origin/config` → `{ tokenLifetimeSeconds, refreshReuseIntervalSeconds }` now in force. */
const getConfig: Route = {
  method: 'GET',
  pattern: /^\/__origin\/config$/,
  name: null,
  control: true,
  async handle(ctx, { res }) {
    sendJson(res, 200, configView(ctx.state));
  },
};

/**
 * `POST /__origin/clock { advanceMs }` → `{ offsetMs, now }`: moves the origin's clock `advanceMs`
 * ahead until the next reset, so the next token has a later `iat` without a test waiting a second
 * for it. Sessions age with it and `Date` follows it. `offsetMs` is how far ahead it is in all,
 * `now` the clock after the move. It moves only forward (a reset puts it back): a client drops a
 * token whose `iat` is older than the one it holds, so a step back would go unseen.
 */
const clock: Route = {
  method: 'POST',
  pattern: /^\/__origin\/clock$/,
  name: null,
  control: true,
  async handle(ctx, { req, res }) {
    const { advanceMs } = await readParams(req, 'json');
    if (typeof advanceMs !== 'number' || !Number.isFinite(advanceMs) || advanceMs < 0 || advanceMs > MAX_CLOCK_ADVANCE_MS) {
      throw invalid('advanceMs', `must be a number of milliseconds from 0 to ${MAX_CLOCK_ADVANCE_MS}`);
    }
    ctx.state.advanceClock(advanceMs);
    sendJson(res, 200, { offsetMs: ctx.state.clockOffsetMs, now: ctx.state.now() });
  },
};

/** `GET /__origin/stats` → `{ mints, requests, sessions, outage, app }` (`outage`: the mode in force; `app`: `AppStats`). */
const stats: Route = {
  method: 'GET',
  pattern: /^\/__origin\/stats$/,
  name: null,
  control: true,
  async handle(ctx, { res }) {
    sendJson(res, 200, ctx.state.stats());
  },
};

/**
 * `GET /__origin/log[?since=ms]` → `{ mints: MintRecord[], now }`: every request of the frontend token
 * routes since the last reset (at most the last 10 000), in the order they were answered, with when it
 * arrived, how long it took, its answer, whether it carried an `expired_token` and whether it counted
 * as a mint — what the reliability drills read to check backoff, deduplication and the outage re-mint
 * from outside the client. `since` (an integer, the origin's clock in ms) keeps only the requests that
 * arrived at or after it, so a live chart polls its window and not the whole log; `now` is the
 * origin's clock when it answered, so a reader on another clock can place `at` on its own.
 */
const log: Route = {
  method: 'GET',
  pattern: /^\/__origin\/log$/,
  name: null,
  control: true,
  async handle(ctx, { res, url }) {
    const given = url.searchParams.getAll('since');
    let since = -Infinity;
    if (given.length > 0) {
      const param = given.length === 1 ? integerParam({ since: given[0] }, 'since') : ({ present: true, invalid: true } as const);
      if (!param.present || 'invalid' in param) throw invalid('since', "must be one integer number of milliseconds on the origin's clock");
      since = param.value;
    }
    sendJson(res, 200, { mints: ctx.state.mintLog(since), now: ctx.state.now() });
  },
};

/**
 * `POST /__origin/reset` clears counters, the mint log, outage mode, faults, the lifetime and reuse
 * interval overrides and the clock offset (the clock is back on the one the origin was given).
 * Users, clients, sessions, test session tokens and app token families are kept, so cookies held by
 * other tests keep working.
 */
const reset: Route = {
  method: 'POST',
  pattern: /^\/__origin\/reset$/,
  name: null,
  control: true,
  async handle(ctx, { req, res }) {
    await readParams(req, 'json');
    ctx.state.reset();
    sendJson(res, 200, { ok: true });
  },
};

/** The fault control routes. */
export const faultRoutes: readonly Route[] = [outage, faults, setConfig, getConfig, clock, stats, log, reset];
