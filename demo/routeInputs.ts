/**
 * What the demo's own routes (endpointRoutes.ts, providerRoutes.ts) read from a request: who sent
 * it, the `since` of a poll, the small JSON body of a control request (an outage switch).
 */
import type { IncomingMessage } from 'node:http';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** Whether the request came from this machine (the outage switches answer nothing else). */
export const fromThisMachine = (req: IncomingMessage): boolean => LOOPBACK.has(req.socket.remoteAddress ?? '');

/** `since` as one integer, absent as -Infinity; null when it is not. */
export function sinceParam(url: URL): number | null {
  const given = url.searchParams.getAll('since');
  if (given.length === 0) return -Infinity;
  const value = given.length === 1 && /^\d{1,16}$/.test(given[0]!) ? Number(given[0]) : NaN;
  return Number.isSafeInteger(value) ? value : null;
}

/**
 * The body of a control request: `undefined` when it is not `application/json`, longer than 1 KB or
 * not JSON, which the routes answer with 422.
 */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return undefined;
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 1024) return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
