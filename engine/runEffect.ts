import { OUTAGE_WAIT_MS } from '../protocol/constants.ts';
import type { Clock } from '../protocol/clock.ts';
import { ConnectionError } from '../protocol/errors.ts';
import type { TokenRequest } from '../protocol/types.ts';
import type { Effect } from './engineState.ts';
import type { MintTable } from './MintTable.ts';
import type { OutagePolicy } from './OutagePolicy.ts';
import type { Persister } from './Persister.ts';
import type { Poller } from './Poller.ts';
import type { SessionDiscovery } from './SessionDiscovery.ts';
import type { TokenOrigin } from './TokenOrigin.ts';

/** The parts that carry out what a transition asks for. */
export interface EffectRunners {
  clock: Clock;
  persister: Persister;
  discovery: SessionDiscovery;
  mints: MintTable;
  poller: Poller;
  outage: OutagePolicy;
  origin: TokenOrigin;
  /** A read as a new caller makes it, with its deadline: where a switched session's callers go. */
  read(request: TokenRequest, deadline: number): Promise<string | null>;
}

/**
 * Carries out one effect of a transition (engineState.ts), after the state has changed.
 *
 * @example
 * for (const effect of transition.effects) runEffect(effect, runners);
 */
export function runEffect(effect: Effect, r: EffectRunners): void {
  const closed = () => new ConnectionError('The token engine was closed');
  switch (effect.type) {
    case 'persist':
      return r.persister.write(effect.write);
    case 'release-session-waiters':
      return r.discovery.release();
    case 'stop':
      r.poller.close();
      r.outage.close();
      r.origin.abortAll();
      return r.discovery.release(closed());
    case 'settle': {
      if (effect.flights === 'all') return r.mints.settle(() => true, (f) => f.reject(closed()));
      const { sessionId } = effect;
      if (effect.flights === 'of-session') return r.mints.settle((f) => f.sessionId === sessionId, (f) => f.resolve(null));
      const deadline = r.clock.now() + OUTAGE_WAIT_MS;
      return r.mints.settle((f) => f.sessionId !== sessionId, (f) => f.redirect((request) => r.read(request, deadline)));
    }
  }
}
