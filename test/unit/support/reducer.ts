/**
 * Driving the engine's reducer by hand: a state, the actions a tab or the world would send, and
 * what came of them — no timers, no network, no promises.
 */
import { MIN_LEEWAY_S } from '../../../protocol/constants.ts';
import type { TokenRequest } from '../../../protocol/types.ts';
import type { Action, Effect } from '../../../engine/actions.ts';
import { reduce } from '../../../engine/reduce.ts';
import { initialState, type EngineState } from '../../../engine/state.ts';
import type { MintedToken, OriginTraits } from '../../../engine/TokenOrigin.ts';

export const CLERK: OriginTraits = { oneToken: false, pollSignedOut: true, switchable: true, sessionFromToken: false };

export function newState(o: { storage?: 'memory' | 'indexeddb'; now?: number; traits?: Partial<OriginTraits>; pollIntervalMs?: number } = {}): EngineState {
  return initialState({ storage: o.storage ?? 'memory', now: o.now ?? 0, traits: { ...CLERK, ...o.traits }, pollIntervalMs: o.pollIntervalMs ?? 5000 });
}

export function request(overrides: Partial<TokenRequest> = {}): TokenRequest {
  return { template: null, organizationId: null, expiresInSeconds: null, skipCache: false, leewayInSeconds: MIN_LEEWAY_S, ...overrides };
}

/** Runs actions one after the other; answers every state and the effects of each step. */
export function run(state: EngineState, actions: readonly Action[], now = 0): { state: EngineState; effects: Effect[][] } {
  const effects: Effect[][] = [];
  for (const action of actions) {
    const t = reduce(state, action, now);
    state = t.state;
    effects.push([...t.effects]);
  }
  return { state, effects };
}

/** The mint requests among `effects`. */
export const mintsOf = (effects: readonly Effect[]) => effects.filter((e): e is Extract<Effect, { type: 'mint' }> => e.type === 'mint');

let nextCall = 0;

/**
 * Offers `token` for `request`'s key of the active session the way the engine gets one: a read
 * with `skipCache` starts a mint, and the mint answers with the token.
 */
export function offer(state: EngineState, token: MintedToken, req: TokenRequest = request(), now = 0): EngineState {
  const started = reduce(state, { type: 'read', id: --nextCall, request: { ...req, skipCache: true }, deadline: now + 10_000 }, now);
  const mint = mintsOf(started.effects)[0] ?? [...started.state.flights.values()][0];
  if (!mint) return started.state;
  return reduce(started.state, { type: 'minted', id: mint.id, token, freshId: 's_fresh' }, now).state;
}
