/**
 * Loopback checks. The fault controls answer only callers on this machine, and the standalone
 * server refuses the well-known default key anywhere else.
 */
import { isIPv4 } from 'node:net';

/**
 * Whether a socket's remote address is a loopback address: `127.0.0.0/8`, `::1`, or an IPv4
 * loopback address mapped into IPv6 (`::ffff:127.0.0.1`, which a dual-stack socket reports).
 *
 * @example
 * isLoopbackAddress('::ffff:127.0.0.1') // true
 * isLoopbackAddress('192.168.1.5')      // false
 */
export function isLoopbackAddress(address: string | undefined | null): boolean {
  if (!address) return false;
  const lower = address.toLowerCase();
  if (lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
  const v4 = lower.startsWith('::ffff:') ? lower.slice('::ffff:'.length) : lower;
  return isIPv4(v4) && v4.startsWith('127.');
}

/**
 * Whether a host name to bind to stays on this machine: `localhost`, a loopback IP, or `[::1]`.
 * `0.0.0.0`, `::` and every other name are reachable from elsewhere.
 *
 * @example
 * isLoopbackHost('localhost') // true
 * isLoopbackHost('0.0.0.0')   // false
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || isLoopbackAddress(bare);
}
