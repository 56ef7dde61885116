/**
 * Looking the session up (SPEC 2, 5): one `readSessions` (Clerk: `GET {client}`) at a time, and
 * never while the backoff gate is closed — then it is owed until the gate opens.
 */
import { isOpen } from './backoff.ts';
import type { Draft } from './Draft.ts';

/** Starts a look-up now, or owes one until the backoff gate opens. */
export function requestDiscovery(d: Draft): void {
  const discovery = d.s.discovery;
  if (d.s.closed || discovery.inFlight) return;
  if (!isOpen(d.s.gate, d.now)) {
    d.look({ owed: true });
    return;
  }
  const id = d.id();
  d.look({ owed: false, lastAt: d.now, inFlight: { id, epoch: d.s.epoch, sentAt: d.now, slow: false } });
  d.effect({ type: 'read-sessions', id });
}
