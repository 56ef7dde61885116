/** The two hand-written baselines as bench contenders. */
import { BroadcastLockTokens } from '../../baselines/broadcastLock.ts';
import { discoverSession } from '../../baselines/originApi.ts';
import { PerTabTokens } from '../../baselines/perTab.ts';
import type { Contender, ContenderParams } from './Contender.ts';

export async function createBaseline(kind: 'perTab' | 'broadcastLock', params: ContenderParams): Promise<Contender> {
  const sessionId = await discoverSession();
  const tokens = kind === 'perTab' ? new PerTabTokens(sessionId) : new BroadcastLockTokens(sessionId, `bench:${params.namespace}`);
  return { ready: Promise.resolve(), read: tokens.getToken, peek: tokens.peekToken, close: () => tokens.close() };
}
