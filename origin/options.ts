/**
 * Options of the development origin, their defaults and their validation. Bad options throw at
 * construction, before the origin serves a single request.
 */
import { InvalidArgumentError } from '../protocol/errors.ts';
import { TEMPLATE_PATTERN } from '../protocol/constants.ts';

/** The secret key used when neither the option nor `TABTOKEN_SECRET_KEY` gives one. */
export const DEFAULT_SECRET_KEY = 'sk_test_tabtoken';

/** Bounds and default of a token lifetime (the option, a template's, and `POST /__origin/config`). */
export const MIN_TOKEN_LIFETIME_S = 20;
export const MAX_TOKEN_LIFETIME_S = 86_400;
export const DEFAULT_TOKEN_LIFETIME_S = 60;

/** One JWT template: a name the client may ask for in the URL, with its own lifetime and claims. */
export interface TemplateOptions {
  /** Integer 20..86400; default: the origin's `tokenLifetimeSeconds`. */
  lifetimeSeconds?: number;
  /** Extra claims of every token of this template. They never replace the claims the origin sets itself. */
  claims?: Record<string, unknown>;
}

/** Options of `createDevOrigin` and `devOrigin`. */
export interface DevOriginOptions {
  /** Key of the backend API (`Authorization: Bearer …`); default `TABTOKEN_SECRET_KEY`, else `sk_test_tabtoken`. */
  secretKey?: string;
  /** Default token lifetime, integer 20..86400; default 60. */
  tokenLifetimeSeconds?: number;
  /** JWT templates by name (`/^[A-Za-z0-9_-]{1,64}$/`). */
  templates?: Record<string, TemplateOptions>;
  /** Serve the `/__origin/*` fault controls (loopback callers only); default false. */
  faults?: boolean;
  /** `iss` of every token; default the origin the request reached, such as `http://127.0.0.1:5173`. */
  issuer?: string;
  /** Origins that may call the origin cross-origin with credentials (CORS); default none. */
  allowedOrigins?: string[];
  /**
   * The origin's clock in epoch milliseconds; default `Date.now`. Tests pass their own to move a
   * session past its max duration without waiting.
   */
  now?: () => number;
}

/** A template after validation. */
export interface ResolvedTemplate {
  lifetimeSeconds: number | null;
  claims: Readonly<Record<string, unknown>>;
}

/** Every option after validation, with its default applied. */
export interface ResolvedOptions {
  secretKey: string;
  tokenLifetimeSeconds: number;
  templates: ReadonlyMap<string, ResolvedTemplate>;
  faults: boolean;
  issuer: string | null;
  allowedOrigins: ReadonlySet<string>;
  now: () => number;
}

/** Whether a value is an integer within `min..max`. */
export function isIntegerInRange(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function lifetime(value: unknown, name: string): number {
  if (!isIntegerInRange(value, MIN_TOKEN_LIFETIME_S, MAX_TOKEN_LIFETIME_S)) {
    throw new InvalidArgumentError(`${name} must be an integer from ${MIN_TOKEN_LIFETIME_S} to ${MAX_TOKEN_LIFETIME_S}, got ${String(value)}`);
  }
  return value;
}

function resolveTemplates(value: unknown): Map<string, ResolvedTemplate> {
  const templates = new Map<string, ResolvedTemplate>();
  if (value === undefined) return templates;
  if (!isPlainObject(value)) throw new InvalidArgumentError('templates must be an object of template options by name');
  for (const [name, template] of Object.entries(value)) {
    if (!TEMPLATE_PATTERN.test(name)) throw new InvalidArgumentError(`template name ${JSON.stringify(name)} must match ${String(TEMPLATE_PATTERN)}`);
    if (!isPlainObject(template)) throw new InvalidArgumentError(`templates.${name} must be an object`);
    const claims = template.claims ?? {};
    if (!isPlainObject(claims)) throw new InvalidArgumentError(`templates.${name}.claims must be a plain object`);
    // The claims go into every token as JSON: a value JSON cannot carry would silently vanish.
    let copy: unknown;
    try {
      copy = JSON.parse(JSON.stringify(claims));
    } catch (cause) {
      throw new InvalidArgumentError(`templates.${name}.claims must be JSON-serialisable`, { cause });
    }
    templates.set(name, {
      lifetimeSeconds: template.lifetimeSeconds === undefined ? null : lifetime(template.lifetimeSeconds, `templates.${name}.lifetimeSeconds`),
      claims: Object.freeze(copy as Record<string, unknown>),
    });
  }
  return templates;
}

function resolveAllowedOrigins(value: unknown): Set<string> {
  if (value === undefined) return new Set();
  if (!Array.isArray(value)) throw new InvalidArgumentError('allowedOrigins must be an array of origins');
  const origins = new Set<string>();
  for (const entry of value) {
    let parsed: URL | null = null;
    try {
      parsed = typeof entry === 'string' ? new URL(entry) : null;
    } catch {
      parsed = null;
    }
    // Only a bare origin is accepted, so the comparison with the Origin header stays exact.
    if (!parsed || parsed.origin === 'null' || parsed.origin !== entry) {
      throw new InvalidArgumentError(`allowedOrigins entry ${JSON.stringify(entry)} must be an origin such as "http://localhost:5173"`);
    }
    origins.add(parsed.origin);
  }
  return origins;
}

/**
 * Validates the options and applies the defaults.
 *
 * @example
 * resolveOptions({ tokenLifetimeSeconds: 30 }, process.env).tokenLifetimeSeconds // 30
 */
export function resolveOptions(options: DevOriginOptions = {}, env: Readonly<Record<string, string | undefined>> = process.env): ResolvedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError('options must be an object');
  const now = options.now ?? Date.now;
  const secretKey = options.secretKey ?? (env.TABTOKEN_SECRET_KEY || DEFAULT_SECRET_KEY);
  if (typeof secretKey !== 'string' || secretKey.length === 0) throw new InvalidArgumentError('secretKey must be a non-empty string');
  if (options.faults !== undefined && typeof options.faults !== 'boolean') throw new InvalidArgumentError('faults must be a boolean');
  if (typeof now !== 'function') throw new InvalidArgumentError('now must be a function');
  let issuer: string | null = null;
  if (options.issuer !== undefined) {
    if (typeof options.issuer !== 'string' || options.issuer.length === 0) throw new InvalidArgumentError('issuer must be a non-empty string');
    issuer = options.issuer;
  }
  return {
    secretKey,
    tokenLifetimeSeconds:
      options.tokenLifetimeSeconds === undefined ? DEFAULT_TOKEN_LIFETIME_S : lifetime(options.tokenLifetimeSeconds, 'tokenLifetimeSeconds'),
    templates: resolveTemplates(options.templates),
    faults: options.faults ?? false,
    issuer,
    allowedOrigins: resolveAllowedOrigins(options.allowedOrigins),
    now,
  };
}
