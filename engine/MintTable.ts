import type { TokenRequest } from '../protocol/types.ts';
import type { EngineContext } from './EngineContext.ts';
import { Flight } from './Flight.ts';

/**
 * The mints in flight, one per cache key: concurrent reads of a key from any number of tabs share
 * one request (SPEC 4). A flight is sent at once, or parked behind the backoff gate until it opens
 * (the poller never bypasses the backoff, SPEC 5); `drain` sends what is parked.
 *
 * @example
 * const mints = new MintTable(ctx, (flight) => attempt(flight));
 * const flight = mints.ensure('sess_1|||', 'sess_1', request, false);
 * await flight.wait(request, 10_000, 'no token is cached for the key');
 */
export class MintTable {
  readonly #ctx: EngineContext;
  readonly #attempt: (flight: Flight) => Promise<void>;
  readonly #flights = new Map<string, Flight>();
  /** Mints started with nobody waiting (a stale read, the poller) and with callers waiting. */
  readonly refreshes = { background: 0, foreground: 0 };

  constructor(ctx: EngineContext, attempt: (flight: Flight) => Promise<void>) {
    this.#ctx = ctx;
    this.#attempt = attempt;
  }

  /** The flight of `key`, started if there is none. */
  ensure(key: string, sessionId: string, request: TokenRequest, background: boolean): Flight {
    const existing = this.#flights.get(key);
    if (existing && !existing.done) return existing;
    const target = { template: request.template, organizationId: request.organizationId, expiresInSeconds: request.expiresInSeconds };
    const flight = new Flight({ key, sessionId, epoch: this.#ctx.state().epoch, target, clock: this.#ctx.clock });
    this.#flights.set(key, flight);
    this.refreshes[background ? 'background' : 'foreground']++;
    this.#launch(flight);
    return flight;
  }

  /** Removes a flight that has settled or is given up. */
  finish(flight: Flight): void {
    if (this.#flights.get(flight.key) === flight) this.#flights.delete(flight.key);
  }

  /** Parks a flight whose request failed with an outage; it is sent again by the next `drain`. */
  park(flight: Flight): void {
    flight.state = 'waiting';
    this.#ctx.outage.wake();
  }

  /** Removes and settles every flight that `match` selects. */
  settle(match: (flight: Flight) => boolean, settle: (flight: Flight) => void): void {
    for (const [key, flight] of [...this.#flights]) {
      if (!match(flight)) continue;
      this.#flights.delete(key);
      settle(flight);
    }
  }

  /** The gate is open: sends every parked flight that is still `wanted`, drops the others. */
  drain(wanted: (flight: Flight) => boolean): void {
    const { epoch } = this.#ctx.state();
    for (const flight of [...this.#flights.values()]) {
      if (flight.state !== 'waiting' || flight.done) continue;
      if (flight.epoch !== epoch || !wanted(flight)) this.finish(flight);
      else this.#launch(flight);
    }
  }

  /** Sends the flight's request now, or parks it until the backoff gate opens (never bypassed). */
  #launch(flight: Flight): void {
    if (!this.#ctx.outage.isOpen()) return this.park(flight);
    flight.state = 'running';
    void this.#attempt(flight);
  }
}
