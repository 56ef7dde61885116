import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDevOrigin } from '../../origin/createDevOrigin.ts';
import { InvalidArgumentError } from '../../protocol/errors.ts';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('createDevOrigin options', () => {
  it('uses sk_test_tabtoken as the secret key by default, TABTOKEN_SECRET_KEY when set, and the option above both', () => {
    vi.stubEnv('TABTOKEN_SECRET_KEY', '');
    expect(createDevOrigin().secretKey).toBe('sk_test_tabtoken');
    vi.stubEnv('TABTOKEN_SECRET_KEY', 'sk_test_from_env');
    expect(createDevOrigin().secretKey).toBe('sk_test_from_env');
    expect(createDevOrigin({ secretKey: 'sk_test_option' }).secretKey).toBe('sk_test_option');
  });

  it('has the fault controls off by default', () => {
    expect(createDevOrigin().faults).toBe(false);
    expect(createDevOrigin({ faults: true }).faults).toBe(true);
  });

  it.each([
    [{ tokenLifetimeSeconds: 19 }],
    [{ tokenLifetimeSeconds: 86_401 }],
    [{ tokenLifetimeSeconds: 60.5 }],
    [{ tokenLifetimeSeconds: Number.NaN }],
    [{ templates: { 'a/b': {} } }],
    [{ templates: { api: { lifetimeSeconds: 10 } } }],
    [{ templates: { api: { claims: [] as unknown as Record<string, unknown> } } }],
    [{ secretKey: '' }],
    [{ issuer: '' }],
    [{ allowedOrigins: 'http://a.test' as unknown as string[] }],
    [{ faults: 'yes' as unknown as boolean }],
  ])('throws InvalidArgumentError for %j', (options) => {
    expect(() => createDevOrigin(options)).toThrow(InvalidArgumentError);
  });

  it('accepts the boundaries 20 and 86400', () => {
    expect(() => createDevOrigin({ tokenLifetimeSeconds: 20, templates: { a: { lifetimeSeconds: 86_400 } } })).not.toThrow();
  });
});
