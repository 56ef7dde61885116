/**
 * Identifiers of the origin's objects. All are URL-safe (`/^[A-Za-z0-9_-]+$/`): they travel in
 * URL paths, cookies and storage keys unescaped.
 */
import { createHash, randomBytes } from 'node:crypto';

/**
 * A random id with a readable prefix, such as `sess_3q2-xY…`.
 *
 * @example
 * randomId('sess') // 'sess_Yx1…' (22 random URL-safe characters)
 */
export function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/** An unguessable secret (the token of a test session token). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The user id of a sign-in identifier. It is derived, not random, so one identifier names the
 * same user across restarts of the origin.
 *
 * @example
 * userIdFor('alice@example.com') === userIdFor('alice@example.com') // true
 */
export function userIdFor(identifier: string): string {
  return `user_${createHash('sha256').update(identifier).digest('base64url').slice(0, 24)}`;
}
