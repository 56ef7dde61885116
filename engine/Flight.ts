import { unavailableAfter } from './OutagePolicy.ts';
import type { TokenRequest } from '../protocol/types.ts';
import type { Clock } from '../protocol/clock.ts';
import type { MintTarget } from './TokenOrigin.ts';

interface Waiter {
  request: TokenRequest;
  resolve: (value: string | null | Promise<string | null>) => void;
  reject: (error: unknown) => void;
  timer: unknown;
}

/**
 * One deduplicated mint of one cache key, shared by every caller that needs it: the background
 * refresh, a `skipCache` read and any number of waiting `getToken` calls from any number of tabs
 * all ride on the same request.
 *
 * `epoch` is the engine's session epoch when the flight started: a response that lands after a
 * sign-out or a session switch carries an old epoch and is dropped.
 *
 * @example
 * const flight = new Flight({ key, sessionId, epoch, target, clock });
 * const jwt = await flight.wait(request, 10_000, 'no token is cached for the key');
 */
export class Flight {
  readonly key: string;
  readonly sessionId: string;
  readonly epoch: number;
  readonly target: MintTarget;
  /** `running`: a request is out; `waiting`: parked behind a closed backoff gate. */
  state: 'running' | 'waiting' = 'running';
  /** Set once the flight has settled; it then takes no more waiters. */
  done = false;
  lastError: unknown = null;
  readonly #clock: Clock;
  readonly #waiters = new Set<Waiter>();

  constructor(o: { key: string; sessionId: string; epoch: number; target: MintTarget; clock: Clock }) {
    this.key = o.key;
    this.sessionId = o.sessionId;
    this.epoch = o.epoch;
    this.target = o.target;
    this.#clock = o.clock;
  }

  get waiterCount(): number {
    return this.#waiters.size;
  }

  /**
   * Waits for the flight's token. A caller waits at most `maxWaitMs` (OUTAGE_WAIT_MS): then it
   * rejects `OriginUnavailableError` while the flight itself goes on for everyone else — it never
   * resolves null for an outage, because null means signed out.
   */
  wait(request: TokenRequest, maxWaitMs: number, why: string): Promise<string | null> {
    return new Promise<string | null>((resolve, reject) => {
      const waiter: Waiter = { request, resolve, reject, timer: null };
      waiter.timer = this.#clock.setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(unavailableAfter(this.lastError, why));
      }, maxWaitMs);
      this.#waiters.add(waiter);
    });
  }

  resolve(jwt: string | null): void {
    this.#settle((w) => w.resolve(jwt));
  }

  reject(error: unknown): void {
    this.#settle((w) => w.reject(error));
  }

  /** Hands every waiter to `next` with its own request (used when the active session switches). */
  redirect(next: (request: TokenRequest) => Promise<string | null>): void {
    this.#settle((w) => w.resolve(next(w.request)));
  }

  #settle(fn: (waiter: Waiter) => void): void {
    this.done = true;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) {
      this.#clock.clearTimeout(w.timer);
      fn(w);
    }
  }
}
