/**
 * A random id of 32 hex digits, for tabs, engine instances and requests. Not `crypto.randomUUID`:
 * it exists only in secure contexts, and an app served over plain http from a LAN address (a
 * phone testing a dev server) is not one; `getRandomValues` works everywhere.
 *
 * @example
 * randomId() // '9f86d081884c7d659a2feaa0c55ad015'
 */
export function randomId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}
