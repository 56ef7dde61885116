/**
 * Error names survive a consumer's minifier, which renames classes: `name` must be a literal.
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('error classes', () => {
  it('keep their name and code after minification renames the classes', async () => {
    const out = await build({ entryPoints: ['protocol/errors.ts'], bundle: true, minify: true, format: 'esm', write: false, logLevel: 'silent' });
    const mod = (await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0]!.text).toString('base64')}`)) as Record<
      string,
      new (
        ...args: never[]
      ) => Error & { code: string }
    >;
    const expected: Record<string, string> = {
      InvalidArgumentError: 'invalid_argument',
      MissingExpiredTokenError: 'missing_expired_token',
      OriginUnavailableError: 'origin_unavailable',
      TokenInvalidError: 'token_invalid',
      ConnectionError: 'connection',
    };
    for (const [name, code] of Object.entries(expected)) {
      const Cls = mod[name] as unknown as new (message?: string) => Error & { code: string };
      const error = new Cls('m');
      expect(error.name).toBe(name);
      expect(error.code).toBe(code);
    }
    const Response = mod.OriginResponseError as unknown as new (status: number, errors: unknown[]) => Error;
    expect(new Response(404, []).name).toBe('OriginResponseError');
  });
});
