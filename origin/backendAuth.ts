/**
 * The backend API's only credential: `Authorization: Bearer <secretKey>`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { OriginHttpError } from './OriginHttpError.ts';
import type { OriginContext } from './routes.ts';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * Throws 401 `unauthorized` unless the request carries the secret key. Both sides are hashed first
 * so the comparison takes the same time whatever the length or content of the guess.
 */
export function requireSecretKey(ctx: OriginContext, req: IncomingMessage): void {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  const presented = match?.[1] ?? '';
  const ok = timingSafeEqual(digest(presented), digest(ctx.options.secretKey));
  if (!match || !ok) {
    throw new OriginHttpError(
      401,
      'unauthorized',
      'Unauthorized',
      'The backend API needs the header "Authorization: Bearer <secret key>" with the origin\'s secret key.',
    );
  }
}
