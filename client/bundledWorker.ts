/**
 * Starts the worker that ships with the client. Written as the literal
 * `new SharedWorker(new URL(…, import.meta.url))` that bundlers recognise; the library build
 * rewrites the URL to `./worker.js` beside the built client (see vite.config.ts), so a consumer's
 * bundler finds and emits it.
 */
export function startBundledWorker(name: string): SharedWorker {
  return new SharedWorker(new URL('../worker/sharedWorker.ts', import.meta.url), { type: 'module', name });
}
