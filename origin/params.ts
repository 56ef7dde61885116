/**
 * Reading single parameters of a request body, whether it came as a form (strings) or as JSON
 * (numbers). A parameter that is present but malformed is never treated as absent.
 */
import type { BodyParams } from './http.ts';

/** The result of reading one parameter: absent, or present with a value or malformed (`invalid`). */
export type Param<T> = { present: false } | { present: true; value: T } | { present: true; invalid: true };

const ABSENT = { present: false } as const;
const INVALID = { present: true, invalid: true } as const;

/**
 * An integer parameter: a JSON integer, or a form string of decimal digits. `null` in JSON counts
 * as absent; `1.5`, `-1`, `"1e12"`, `"abc"`, `""` and arrays are malformed.
 *
 * @example
 * integerParam({ n: '30' }, 'n') // { present: true, value: 30 }
 */
export function integerParam(params: BodyParams, name: string): Param<number> {
  const value = params[name];
  if (value === undefined || value === null) return ABSENT;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? { present: true, value } : INVALID;
  if (typeof value === 'string' && /^[0-9]{1,16}$/.test(value)) {
    const parsed = Number(value);
    return Number.isSafeInteger(parsed) ? { present: true, value: parsed } : INVALID;
  }
  return INVALID;
}

/** A string parameter; `null` in JSON counts as absent, any other non-string is malformed. */
export function stringParam(params: BodyParams, name: string): Param<string> {
  const value = params[name];
  if (value === undefined || value === null) return ABSENT;
  return typeof value === 'string' ? { present: true, value } : INVALID;
}
