/**
 * The provider and the peer are tools of the tests, never part of the package: nothing built into
 * dist/ names them or this folder, and they are devDependencies only.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

test('no file in dist/ imports oidc-provider, oidc-client-ts or dev/oidc', () => {
  // `npm test` builds before running the tests; dist/ must be there.
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const files = readdirSync(join(root, 'dist'), { recursive: true })
    .map(String)
    .filter((f) => /\.(m?js|d\.ts)$/.test(f));
  expect(files.length).toBeGreaterThan(3);
  const offending = files.filter((f) => /oidc-provider|oidc-client-ts|dev\/(oidc|betterAuth|browsers)\//.test(readFileSync(join(root, 'dist', f), 'utf8')));
  expect(offending).toEqual([]);
});

test('oidc-provider and oidc-client-ts are devDependencies only', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  for (const name of ['oidc-provider', 'oidc-client-ts']) {
    expect(pkg.devDependencies?.[name], name).toBeTruthy();
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) expect(pkg[field]?.[name], `${field}.${name}`).toBeUndefined();
  }
});
