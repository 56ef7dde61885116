import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
const r = await build({ entryPoints: ['client/index.ts'], bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent',
  plugins: [{ name: 'x', setup(b) { b.onResolve({ filter: /LocalConnection|authorizedFetch/ }, (a) => a.kind === 'dynamic-import' ? { path: a.path, external: true } : undefined);
   if (process.env.NOCL) b.onResolve({ filter: /^comlink$/ }, (a) => ({ path: a.path, external: true })); } }] });
const c = r.outputFiles[0].contents; console.log(c.length, gzipSync(c, { level: 9 }).length);
if (process.env.OUT) (await import('node:fs')).writeFileSync(process.env.OUT, c);
