/**
 * Which `Host` names the development origin answers: its protection against DNS rebinding. A page
 * of another site can make its own name resolve to 127.0.0.1 and then call this origin as if it
 * were that site's own (same-origin, so CORS never stands in the way). The browser still sends the
 * page's name in `Host`, so answering only names of this machine and names the server was told
 * about closes that door, whatever those names resolve to.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { InvalidArgumentError } from '../protocol/errors.ts';
import { OriginHttpError } from './OriginHttpError.ts';

// BlockList also matches an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, which the URL parser
// writes `[::ffff:7f00:1]`) against the IPv4 rule.
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** The longest piece of a refused `Host` value repeated in the error. */
const MAX_ECHOED_HOST = 100;

function parseAuthority(value: string, scheme: 'http' | 'https' = 'http'): { hostname: string; port: string } | null {
  let url: URL;
  try {
    url = new URL(`${scheme}://${value}`);
  } catch {
    return null;
  }
  if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.hostname === '') return null;
  return { hostname: url.hostname, port: url.port };
}

/**
 * Whether an authority names a port. The URL parser drops a scheme's default port (`:80` under
 * http), so the port is looked for under two schemes whose defaults differ.
 */
function hasPort(authority: string): boolean {
  return parseAuthority(authority, 'http')?.port !== '' || parseAuthority(authority, 'https')?.port !== '';
}

/**
 * The host name of a `Host` value (`host[:port]`) as the URL parser reads it: lower case,
 * IDNA-encoded, IPv4 in dotted decimal, IPv6 in brackets, the port dropped. Null for anything
 * that is not a bare host with an optional port (user info, a path, a query, an empty host).
 *
 * @example
 * hostNameOf('LocalHost:5173') // 'localhost'
 * hostNameOf('0x7f.1')         // '127.0.0.1'
 * hostNameOf('evil.example/x') // null
 */
export function hostNameOf(value: string): string | null {
  return parseAuthority(value)?.hostname ?? null;
}

/**
 * Whether a host name (as `hostNameOf` gives it) is this machine: a loopback address,
 * `localhost`, or a name under `.localhost`. Browsers resolve those names to loopback themselves
 * (RFC 6761), so no other site can own them. `localhost.` is not one: a resolver may send that
 * name to DNS.
 *
 * @example
 * isThisMachine('[::1]')       // true
 * isThisMachine('app.localhost') // true
 * isThisMachine('192.168.1.5') // false
 */
export function isThisMachine(hostname: string): boolean {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  const family = isIP(bare);
  return family !== 0 && LOOPBACK.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * A host pattern as an allow list names it, normalised by the URL parser: a host name
 * (`app.test`, `192.168.1.5`, `fd00::1` or `[fd00::1]`), or a name with a leading dot
 * (`.app.test`) for that name and every name under it, as Vite reads `server.allowedHosts`.
 * Null when the entry is not one, or carries a port.
 *
 * @example
 * parseHostPattern('App.Test')  // 'app.test'
 * parseHostPattern('.app.test') // '.app.test'
 * parseHostPattern('app.test:80') // null
 */
export function parseHostPattern(entry: string): string | null {
  const wildcard = entry.startsWith('.');
  const rest = wildcard ? entry.slice(1) : entry;
  const bracketed = !rest.startsWith('[') && isIP(rest) === 6 ? `[${rest}]` : rest;
  const authority = parseAuthority(bracketed);
  if (!authority || hasPort(bracketed) || authority.hostname.startsWith('.')) return null;
  // A leading dot over an address would name "every address under it", which means nothing.
  if (wildcard && (isIP(authority.hostname) !== 0 || authority.hostname.startsWith('['))) return null;
  return wildcard ? `.${authority.hostname}` : authority.hostname;
}

/**
 * The `Host` names one server answers: this machine's (see `isThisMachine`) and the patterns it
 * was given. `check` refuses any other request with 403 `host_not_allowed`, telling how to allow
 * the name.
 *
 * @example
 * const hosts = AllowedHosts.strict(['app.test'], 'allowHosts', 'Start it with --allow-host NAME.');
 * hosts.allowsName('app.test')     // true
 * hosts.allowsName('evil.example') // false
 */
export class AllowedHosts {
  readonly #exact: ReadonlySet<string>;
  /** Patterns with their leading dot, such as `.app.test`. */
  readonly #suffixes: readonly string[];
  readonly #howToAllow: string;

  private constructor(patterns: readonly string[], howToAllow: string) {
    this.#exact = new Set(patterns.filter((p) => !p.startsWith('.')));
    this.#suffixes = patterns.filter((p) => p.startsWith('.'));
    this.#howToAllow = howToAllow;
  }

  /**
   * The hosts of a list a user typed: a malformed entry throws `InvalidArgumentError` naming
   * `label`, before the server starts.
   */
  static strict(entries: readonly string[], label: string, howToAllow: string): AllowedHosts {
    if (!Array.isArray(entries)) throw new InvalidArgumentError(`${label} must be an array of host names`);
    const patterns = entries.map((entry: unknown) => {
      const pattern = typeof entry === 'string' ? parseHostPattern(entry) : null;
      if (pattern === null) {
        throw new InvalidArgumentError(
          `${label} entry ${JSON.stringify(entry)} must be a host name such as "app.test", or ".app.test" for it and every name under it, without a port`,
        );
      }
      return pattern;
    });
    return new AllowedHosts(patterns, howToAllow);
  }

  /**
   * The hosts of a list another tool already accepted (Vite's `allowedHosts`): an entry that is
   * not a host pattern is skipped rather than refused, so it allows nothing.
   */
  static lenient(entries: readonly unknown[], howToAllow: string): AllowedHosts {
    const patterns = entries.flatMap((entry) => {
      const pattern = typeof entry === 'string' ? parseHostPattern(entry) : null;
      return pattern === null ? [] : [pattern];
    });
    return new AllowedHosts(patterns, howToAllow);
  }

  /**
   * These hosts and one more, such as the host a server listens on; an entry that is no host
   * pattern (`::`, an empty string) adds nothing.
   */
  including(entry: string): AllowedHosts {
    const pattern = parseHostPattern(entry);
    return new AllowedHosts([...this.#exact, ...this.#suffixes, ...(pattern === null ? [] : [pattern])], this.#howToAllow);
  }

  /** Whether a host name (as `hostNameOf` gives it) is answered. */
  allowsName(hostname: string): boolean {
    if (isThisMachine(hostname) || this.#exact.has(hostname)) return true;
    return this.#suffixes.some((suffix) => hostname === suffix.slice(1) || hostname.endsWith(suffix));
  }

  /**
   * Throws 403 `host_not_allowed` unless the request names an answered host. HTTP/2 carries the
   * host in `:authority` instead of `Host` (Vite over https speaks HTTP/2), so both are read, and
   * every one present must pass. A request naming none is refused: HTTP/1.1 requires `Host`, and
   * only an HTTP/1.0 client can leave it out.
   */
  check(req: IncomingMessage): void {
    const given = [req.headers.host, req.headers[':authority']].filter((value): value is string => typeof value === 'string');
    if (given.length === 0) throw this.#refusal('The request has no Host header.');
    for (const value of given) {
      const hostname = hostNameOf(value);
      if (hostname === null || !this.allowsName(hostname)) {
        const shown = JSON.stringify((hostname ?? value).slice(0, MAX_ECHOED_HOST));
        throw this.#refusal(
          `The development origin answers only requests whose Host names this machine (localhost, a loopback address) or an allowed host, and ${shown} is not one.`,
        );
      }
    }
  }

  #refusal(why: string): OriginHttpError {
    return new OriginHttpError(403, 'host_not_allowed', 'Host not allowed', `${why} ${this.#howToAllow}`);
  }
}
