/**
 * One benchmark tab. The query string says which contender it runs (`c`), in which namespace
 * (`ns`), whether it signs in first (`signin=1`) and whether it reads continuously (`read=<ms>`).
 * The page times its own first token and exposes `window.bench` to the runner (playwright).
 *
 * Each contender is a separate chunk loaded before the clock starts, so a tab pays only for the
 * code of its own contender (the memory figures) and the first-token time starts at the
 * constructor call, as SPEC section 10 defines it.
 */
import type { Contender, ContenderParams } from './contenders/Contender.ts';
import { isPublishStamp, PUBLISH_CHANNEL, type PublishStamp } from './publishStamp.ts';
import echoWorkerUrl from './echoWorker.ts?worker&url';
import instrumentedWorkerUrl from './instrumentedWorker.ts?worker&url';

const KINDS = ['shared', 'local', 'perTab', 'broadcastLock', 'supabase', 'fanout', 'blank', 'echo'] as const;
type Kind = (typeof KINDS)[number];

/** What continuous reading saw. */
export interface ReadLog {
  reads: number;
  nulls: number;
  errors: number;
  /** Every distinct token read, with the time it was first read. */
  tokens: Record<string, number>;
}

/** Per-call means (µs) of each timed batch. */
export interface LatencyRun {
  callsPerBatch: number;
  batchMeansUs: number[];
}

export interface LatencySpec {
  batches: number;
  calls: number;
  /** Batches run first and thrown away, so the JIT has settled. */
  warmup: number;
  roundTripBatches: number;
  roundTripCalls: number;
}

/**
 * Messages between the tabs of one run, on `bench:roll:{namespace}`: tab 0 learns when the others
 * have their first token and gathers their read logs, so the runner talks to tab 0 alone instead of
 * making DevTools calls into every tab (those calls cost more than the tabs themselves here).
 */
type RollMessage = { type: 'ready'; tab: string; error: string | null } | { type: 'collect' } | { type: 'log'; tab: string; log: ReadLog };

function isRollMessage(value: unknown): value is RollMessage {
  if (typeof value !== 'object' || value === null || !('type' in value)) return false;
  if (value.type === 'collect') return true;
  if (!('tab' in value) || typeof value.tab !== 'string') return false;
  if (value.type === 'ready') return 'error' in value && (value.error === null || typeof value.error === 'string');
  return value.type === 'log' && 'log' in value && typeof value.log === 'object' && value.log !== null;
}

/** `window.bench`. */
export interface BenchPage {
  kind: Kind;
  /** Just before the contender's constructor ran, when it returned, when it was ready, and when its first token was in hand. */
  createdAt: number;
  constructedAt: number;
  readyAt: number;
  firstTokenAt: number | null;
  error: string | null;
  /** The contender's round trip result (tabtoken: its Stats). */
  roundTrip(): Promise<unknown>;
  refresh(): Promise<string | null>;
  /** Forces `count` new tokens, `gapMs` apart, from inside the page (no driver traffic meanwhile). */
  refreshRepeatedly(count: number, gapMs: number): Promise<void>;
  /** Tab 0: resolves once `count` other tabs of the run are open and reading; rejects on an error. */
  waitForTabs(count: number, timeoutMs: number): Promise<void>;
  /** Tab 0: stops reading in every tab of the run and returns the read logs that came in time, its own first. */
  collectLogs(count: number, timeoutMs: number): Promise<ReadLog[]>;
  latency(spec: LatencySpec): Promise<{ floor: LatencyRun; read: LatencyRun; peek: LatencyRun | null; roundTrip: LatencyRun | null }>;
  /** Fan-out: when this tab's copy changed to each token. */
  changes: { jwt: string; at: number }[];
  /**
   * Fan-out: the worker's publish stamps, with the moment this tab received each. The stamp travels
   * on its own BroadcastChannel right behind the token message, so its receipt time is what plain
   * BroadcastChannel delivery costs on this machine — the floor under the library's figure.
   */
  publishes: (PublishStamp & { receivedAt: number })[];
  /** With `trace=1`: when the tab's first Web Lock was asked for and granted, and its first worker reply. */
  trace: StartTrace;
  /** The page's timer as this engine gives it here: whether it is cross-origin isolated, and the resolution seen. */
  timer(): TimerFacts;
}

export interface TimerFacts {
  crossOriginIsolated: boolean;
  /** The smallest step between two different `performance.now()` readings, in µs. */
  resolutionUs: number;
  /** The median step between successive different readings, in µs (coarsened timers step evenly). */
  medianStepUs: number;
}

/** Reads `performance.now()` in a tight loop for ~20 ms and looks at the steps between readings. */
function timerFacts(): TimerFacts {
  const steps: number[] = [];
  let last = performance.now();
  const end = last + 20;
  while (last < end) {
    const t = performance.now();
    if (t !== last) {
      steps.push(t - last);
      last = t;
    }
  }
  steps.sort((a, b) => a - b);
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    resolutionUs: (steps[0] ?? NaN) * 1000,
    medianStepUs: (steps[Math.floor(steps.length / 2)] ?? NaN) * 1000,
  };
}

/** Browser-API timestamps of a tab's start (ms since the epoch), for the new-tab breakdown. */
export interface StartTrace {
  lockRequested: number | null;
  lockGranted: number | null;
  workerReply: number | null;
  /** SharedWorkers the page constructed: more than one means its first did not answer (it moved). */
  sharedWorkers: number;
}

const startTrace: StartTrace = { lockRequested: null, lockGranted: null, workerReply: null, sharedWorkers: 0 };

/**
 * Observes the browser APIs a tab's start goes through — the first Web Lock asked for and its grant,
 * the first message from a SharedWorker — without touching the library: wrappers around
 * `navigator.locks.request` and the `SharedWorker` constructor, installed before the contender loads.
 */
function traceStart(): void {
  const locks = navigator.locks;
  const request = locks.request.bind(locks) as (name: string, ...rest: unknown[]) => Promise<unknown>;
  Object.defineProperty(locks, 'request', {
    configurable: true,
    value: (name: string, ...rest: unknown[]) => {
      const callback = rest.at(-1);
      if (startTrace.lockRequested !== null || typeof callback !== 'function') return request(name, ...rest);
      startTrace.lockRequested = now();
      const granted = (lock: unknown): unknown => {
        startTrace.lockGranted ??= now();
        return Reflect.apply(callback, undefined, [lock]);
      };
      return request(name, ...rest.slice(0, -1), granted);
    },
  });
  const Native = globalThis.SharedWorker;
  if (typeof Native !== 'function') return;
  globalThis.SharedWorker = class extends Native {
    constructor(...args: ConstructorParameters<typeof SharedWorker>) {
      super(...args);
      startTrace.sharedWorkers++;
      this.port.addEventListener('message', () => {
        startTrace.workerReply ??= now();
      });
    }
  };
}

/** A tab that has no token this long after it started has failed. */
const FIRST_TOKEN_TIMEOUT_MS = 30_000;

const now = (): number => performance.timeOrigin + performance.now();

function kindOf(value: string | null): Kind {
  const kind = KINDS.find((k) => k === value);
  if (!kind) throw new Error(`unknown contender ${JSON.stringify(value)}`);
  return kind;
}

async function load(kind: Kind, params: ContenderParams): Promise<() => Contender | Promise<Contender>> {
  switch (kind) {
    case 'shared':
    case 'local':
    case 'fanout': {
      const [{ createTabtoken }, { signIn }] = await Promise.all([import('./contenders/tabtoken.ts'), import('./contenders/signIn.ts')]);
      if (params.signIn) await signIn(params.namespace);
      const workerUrl = kind === 'fanout' ? instrumentedWorkerUrl : undefined;
      return () => createTabtoken({ ...params, local: kind === 'local', ...(workerUrl ? { workerUrl } : {}) });
    }
    case 'perTab':
    case 'broadcastLock': {
      const [{ createBaseline }, { signIn }] = await Promise.all([import('./contenders/baselines.ts'), import('./contenders/signIn.ts')]);
      if (params.signIn) await signIn(params.namespace);
      return () => createBaseline(kind, params);
    }
    case 'supabase': {
      const { createSupabase } = await import('./contenders/supabase.ts');
      return () => createSupabase(params);
    }
    case 'echo': {
      const { createEcho } = await import('./contenders/echo.ts');
      return () => createEcho(params, echoWorkerUrl);
    }
    case 'blank':
      return () => ({ ready: Promise.resolve(), read: () => Promise.resolve(null), close: () => {} });
  }
}

/** Times `calls` awaited calls per batch; returns the per-call mean of each batch in µs. */
async function timeAsync(fn: () => Promise<unknown>, batches: number, calls: number, warmup: number): Promise<LatencyRun> {
  const batchMeansUs: number[] = [];
  let sink = 0;
  for (let b = 0; b < warmup + batches; b++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) {
      if ((await fn()) !== null) sink++;
    }
    const elapsed = performance.now() - start;
    if (b >= warmup) batchMeansUs.push((elapsed * 1000) / calls);
    // Let timers, channel messages and the read report run between batches, as in a real page.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  if (sink < 0) console.log(sink); // keeps the results observable, so no call can be optimised away
  return { callsPerBatch: calls, batchMeansUs };
}

function timeSync(fn: () => string | null, batches: number, calls: number, warmup: number): Promise<LatencyRun> {
  return timeAsync(
    async () => {
      // One awaited batch of synchronous calls; the batch mean divides by the synchronous calls.
      let last: string | null = null;
      for (let i = 0; i < calls; i++) last = fn();
      return last;
    },
    batches,
    1,
    warmup,
  ).then((run) => ({ callsPerBatch: calls, batchMeansUs: run.batchMeansUs.map((us) => us / calls) }));
}

async function main(): Promise<void> {
  const query = new URLSearchParams(location.search);
  const kind = kindOf(query.get('c'));
  const params: ContenderParams = { namespace: query.get('ns') ?? 'bench', signIn: query.get('signin') === '1' };
  // Tags every request of this run in the server's log (drivers other than playwright set no cookies).
  // biome-ignore lint/suspicious/noDocumentCookie: a run tag for the server's log, not a token
  document.cookie = `bench_run=${encodeURIComponent(params.namespace)}; path=/; SameSite=Lax`;
  const readEveryMs = Number(query.get('read') ?? '0');
  if (query.get('trace') === '1') traceStart();

  const log: ReadLog = { reads: 0, nulls: 0, errors: 0, tokens: {} };
  const tabId = crypto.randomUUID();
  const roll = new BroadcastChannel(`bench:roll:${params.namespace}`);
  const ready = new Map<string, string | null>();
  const logs = new Map<string, ReadLog>();
  roll.onmessage = (event: MessageEvent) => {
    const message: unknown = event.data;
    if (!isRollMessage(message)) return;
    if (message.type === 'ready') ready.set(message.tab, message.error);
    else if (message.type === 'log') logs.set(message.tab, message.log);
    else {
      clearInterval(reader);
      roll.postMessage({ type: 'log', tab: tabId, log } satisfies RollMessage);
    }
  };
  const until = async (done: () => boolean, timeoutMs: number, what: string): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  let reader: ReturnType<typeof setInterval> | undefined;
  let contender: Contender | null = null;
  const page: BenchPage = {
    kind,
    createdAt: 0,
    constructedAt: 0,
    readyAt: 0,
    firstTokenAt: null,
    error: null,
    roundTrip: () => contender?.roundTrip?.() ?? Promise.resolve(null),
    refresh: () => contender?.refresh?.() ?? Promise.resolve(null),
    refreshRepeatedly: async (count, gapMs) => {
      for (let i = 0; i < count; i++) {
        await page.refresh();
        await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
    },
    waitForTabs: async (count, timeoutMs) => {
      await until(() => ready.size >= count || [...ready.values()].some((e) => e !== null), timeoutMs, `${count} tabs`);
      const error = [...ready.values()].find((e) => e !== null);
      if (error) throw new Error(error);
    },
    collectLogs: async (count, timeoutMs) => {
      clearInterval(reader);
      roll.postMessage({ type: 'collect' } satisfies RollMessage);
      // A tab too starved to answer in time is left out; the runner reports how many answered.
      await until(() => logs.size >= count, timeoutMs, `${count} read logs`).catch(() => {});
      return [log, ...logs.values()];
    },
    latency: async (spec) => {
      if (!contender) throw new Error('no contender');
      const { read, peek, roundTrip } = contender;
      // This engine's own floor for an awaited read: a call that returns an already-resolved promise
      // of a string, awaited the same way (what any awaited getToken costs here before its own work).
      const held: string = (await read()) ?? '';
      const resolved = () => Promise.resolve(held);
      return {
        floor: await timeAsync(resolved, spec.batches, spec.calls, spec.warmup),
        read: await timeAsync(read, spec.batches, spec.calls, spec.warmup),
        peek: peek ? await timeSync(peek, spec.batches, spec.calls, spec.warmup) : null,
        roundTrip: roundTrip ? await timeAsync(roundTrip, spec.roundTripBatches, spec.roundTripCalls, 2) : null,
      };
    },
    changes: [],
    publishes: [],
    trace: startTrace,
    timer: timerFacts,
  };
  Object.assign(globalThis, { bench: page });

  if (kind === 'fanout') {
    // A channel with a listener stays alive (and listening) for the page's lifetime.
    new BroadcastChannel(PUBLISH_CHANNEL).onmessage = (event: MessageEvent) => {
      if (isPublishStamp(event.data)) page.publishes.push({ ...event.data, receivedAt: now() });
    };
  }

  try {
    const create = await load(kind, params);
    page.createdAt = now();
    contender = await create();
    page.constructedAt = now();
    contender.onChange?.((jwt) => page.changes.push({ jwt, at: now() }));
    await contender.ready;
    page.readyAt = now();
    if (kind === 'blank') return;
    // Every other contender's first read is timed below; the echo's reply is its first read.
    // Every read goes through here. A design may answer a signed-in tab with no token (Supabase does
    // while another tab's refresh lands): that is counted as a null read, and the first token is
    // the first read that had one.
    const read = contender.read;
    const record = (jwt: string | null): void => {
      log.reads++;
      if (jwt === null) {
        log.nulls++;
        return;
      }
      const at = now();
      log.tokens[jwt] ??= at;
      page.firstTokenAt ??= at;
    };
    // A read that rejects (the library gave up on its engine, say) is a failed read, not the end of
    // the tab: the mints runs count such reads, and the tab goes on reading.
    const readOnce = (): Promise<void> =>
      read().then(record, () => {
        log.errors++;
      });
    await readOnce();
    // The tab is open and reading: tab 0 counts it in, token or not (a tab left without a token is
    // part of what the mints runs measure).
    roll.postMessage({ type: 'ready', tab: tabId, error: null } satisfies RollMessage);
    if (readEveryMs > 0) {
      reader = setInterval(() => void readOnce(), readEveryMs);
    } else {
      while (page.firstTokenAt === null) {
        if (now() - page.createdAt > FIRST_TOKEN_TIMEOUT_MS) throw new Error(`no token within 30 s (${log.errors} failed reads)`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        await readOnce();
      }
    }
  } catch (error) {
    // Tell tab 0 too, so a run fails at once instead of waiting for this tab.
    roll.postMessage({ type: 'ready', tab: tabId, error: describe(error) } satisfies RollMessage);
    throw error;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

main().catch((error: unknown) => {
  const bench = (globalThis as { bench?: BenchPage }).bench;
  const message = describe(error);
  if (bench) bench.error = message;
  else Object.assign(globalThis, { bench: { error: message } });
});
