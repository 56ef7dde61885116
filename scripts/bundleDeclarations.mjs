// One declaration file per public entry (dist/index.d.ts, worker.d.ts, testing.d.ts, react.d.ts,
// vue.d.ts), so the package ships its public types and nothing of its internal module layout.
// `tsc -p tsconfig.build.json` has emitted the declarations of the sources into dist/.types;
// rollup-plugin-dts bundles, for each entry on its own, the declarations it reaches (so no entry
// imports a shared chunk), and dist/.types is removed. Packages stay imports: `tabtoken` (the
// bindings name the client's types through it, as an app does), react, vue, vite, Node's modules.
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const emitted = join(root, 'dist', '.types');

const ENTRIES = {
  index: 'client/index.d.ts',
  testing: 'origin/testing.d.ts',
  react: 'bindings/react.d.ts',
  vue: 'bindings/vue.d.ts',
};

const packages = ['tabtoken', 'react', 'vue', 'vite', 'comlink', 'idb-keyval', 'jose'];
const external = (id) => packages.some((p) => id === p || id.startsWith(`${p}/`)) || id.startsWith('node:') || builtinModules.includes(id);

// The sources import with .ts extensions; the emitted declarations must name their .d.ts siblings.
for (const file of readdirSync(emitted, { recursive: true })) {
  const path = join(emitted, String(file));
  if (!path.endsWith('.d.ts')) continue;
  const text = readFileSync(path, 'utf8');
  const fixed = text.replace(/((?:from\s+|import\()['"]\.{1,2}\/[^'"]*?)\.ts(['"])/g, '$1.js$2');
  if (fixed !== text) writeFileSync(path, fixed);
}

for (const [name, entry] of Object.entries(ENTRIES)) {
  const bundle = await rollup({
    input: join(emitted, entry),
    external,
    plugins: [dts()],
    onwarn(warning) {
      throw new Error(`${entry}: ${warning.message}`);
    },
  });
  await bundle.write({ file: join(root, 'dist', `${name}.d.ts`), format: 'es' });
  await bundle.close();
}
// The worker is a script: it exports nothing.
writeFileSync(join(root, 'dist', 'worker.d.ts'), 'export {};\n');
rmSync(emitted, { recursive: true, force: true });
