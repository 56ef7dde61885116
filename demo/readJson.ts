/**
 * The small JSON body of a demo control request (an outage switch): `undefined` when it is not
 * `application/json`, longer than 1 KB or not JSON, which the routes answer with 422.
 */
import type { IncomingMessage } from 'node:http';

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
