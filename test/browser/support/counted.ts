/**
 * A manager as the framework bindings see it, counting every subscription they make (and its
 * release) and every read, for the React and Vue tests.
 */
import type { TokenManager } from '../../../client/index.ts';

export interface Counts {
  subscribed: number;
  unsubscribed: number;
  reads: number;
}

/** Wraps `tokens`: the wrapper counts, the manager underneath does the work. */
export function counted(tokens: TokenManager): { manager: TokenManager; counts: Counts } {
  const counts: Counts = { subscribed: 0, unsubscribed: 0, reads: 0 };
  const manager: TokenManager = {
    ...tokens,
    subscribe(listener) {
      counts.subscribed++;
      const off = tokens.subscribe(listener);
      let released = false;
      return () => {
        if (!released) counts.unsubscribed++;
        released = true;
        off();
      };
    },
    getToken(options) {
      counts.reads++;
      return tokens.getToken(options);
    },
  };
  return { manager, counts };
}
