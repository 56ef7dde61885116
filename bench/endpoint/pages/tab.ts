/**
 * One tab of the token-endpoint benchmark. Query: `c` the contender, `ns` the run, `read` the read
 * interval in ms, `signin=1` (tab 0) to sign in over the server's own routes first, `user` the user
 * to sign in as. `window.benchEndpoint` exposes what the tab saw to the runner (playwright).
 */
import { createContender, kindOf, SERVER_OF } from './contenders.ts';
import type { EndpointContender, ReadOutcome } from './EndpointContender.ts';
import { signIn } from './signIn.ts';

/** What continuous reading saw. */
export interface EndpointReadLog {
  reads: number;
  /** Reads that had no token (signed out, or the contender had none at that moment). */
  noToken: number;
  /** Reads that threw. */
  errors: number;
  /** Protected API calls answered 2xx, and answered otherwise (contenders that call one). */
  apiOk: number;
  apiFailed: number;
  /** Every distinct token a read used, with the time it was first used (ms since the epoch). */
  tokens: Record<string, number>;
  /** When the tab found itself signed out (ms since the epoch), or null. */
  signedOutAt: number | null;
}

/** One read made by every tab at the same moment (the wake-up). */
export interface WakeOutcome {
  /** The tab was signed out before the moment, so it made no read. */
  skipped: boolean;
  /** When the read started, and how long it took (ms). */
  startedAt: number;
  ms: number;
  tokens: string[];
  apiStatus: number | null;
  signedOut: boolean;
  error: string | null;
}

export interface EndpointBenchPage {
  firstTokenAt: number | null;
  error: string | null;
  log: EndpointReadLog;
  /** Stops the reading and waits for the reads in flight. */
  pause(): Promise<void>;
  /** One read at `at` (ms since the epoch, `Date.now()`), with reading paused. */
  wake(at: number): Promise<WakeOutcome>;
  /** Stops for good; returns the log and whether the tab is signed out now. */
  finish(): Promise<{ log: EndpointReadLog; signedOut: boolean }>;
}

const now = (): number => performance.timeOrigin + performance.now();
const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

async function main(page: EndpointBenchPage): Promise<void> {
  const query = new URLSearchParams(location.search);
  const kind = kindOf(query.get('c'));
  const namespace = query.get('ns') ?? 'bench';
  const readEveryMs = Number(query.get('read') ?? '1000');
  if (query.get('signin') === '1') await signIn(SERVER_OF[kind], query.get('user') ?? namespace);
  const contender: EndpointContender = await createContender(kind, { namespace });
  await contender.ready;

  const inFlight = new Set<Promise<void>>();
  let reader: ReturnType<typeof setInterval> | undefined;
  const stop = (): void => {
    clearInterval(reader);
    reader = undefined;
  };
  const note = (outcome: ReadOutcome): void => {
    page.log.reads++;
    if (outcome.tokens.length === 0) page.log.noToken++;
    for (const token of outcome.tokens) page.log.tokens[token] ??= now();
    if (outcome.tokens.length > 0) page.firstTokenAt ??= now();
    if (outcome.apiStatus !== null) {
      if (outcome.apiStatus >= 200 && outcome.apiStatus < 300) page.log.apiOk++;
      else page.log.apiFailed++;
    }
    if (contender.signedOut() && page.log.signedOutAt === null) {
      // The app would send the person to its sign-in page now: this tab reads no more.
      page.log.signedOutAt = now();
      stop();
    }
  };
  const readOnce = (): Promise<void> => {
    if (page.log.signedOutAt !== null) return Promise.resolve();
    const p = contender.read().then(note, () => {
      page.log.errors++;
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    return p;
  };
  page.pause = async () => {
    stop();
    await Promise.allSettled([...inFlight]);
  };
  page.wake = async (at) => {
    await page.pause();
    if (page.log.signedOutAt !== null) return { skipped: true, startedAt: now(), ms: 0, tokens: [], apiStatus: null, signedOut: true, error: null };
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
    const startedAt = now();
    try {
      const outcome = await contender.read();
      const ms = now() - startedAt;
      note(outcome);
      return { skipped: false, startedAt, ms, tokens: outcome.tokens, apiStatus: outcome.apiStatus, signedOut: contender.signedOut(), error: null };
    } catch (error) {
      return { skipped: false, startedAt, ms: now() - startedAt, tokens: [], apiStatus: null, signedOut: contender.signedOut(), error: describe(error) };
    }
  };
  page.finish = async () => {
    await page.pause();
    const signedOut = contender.signedOut();
    contender.close();
    return { log: page.log, signedOut };
  };
  await readOnce();
  if (page.log.signedOutAt === null) reader = setInterval(() => void readOnce(), readEveryMs);
}

const page: EndpointBenchPage = {
  firstTokenAt: null,
  error: null,
  log: { reads: 0, noToken: 0, errors: 0, apiOk: 0, apiFailed: 0, tokens: {}, signedOutAt: null },
  pause: async () => undefined,
  wake: async () => ({ skipped: true, startedAt: 0, ms: 0, tokens: [], apiStatus: null, signedOut: false, error: 'the tab did not start' }),
  finish: async () => ({ log: page.log, signedOut: false }),
};
Object.assign(globalThis, { benchEndpoint: page });
main(page).catch((error: unknown) => {
  page.error = describe(error);
});
