/**
 * The peer benchmarks' schedule (bench/oidc/, bench/endpoint/): every contender at every N, largest
 * N first, `concurrency` runs opening at a time, each counting its window while the next ones open.
 */

/**
 * Opens and finishes every run; resolves with their rows in opening order. A run that fails to open
 * or to finish is logged and becomes the row `{ kind, n, lifetimeS, error }`.
 *
 * @example
 * const rows = await sideBySide({ sizes: [1, 5, 20], kinds, concurrency: 2, lifetimeS: 30, what: 'OIDC', labelOf, log,
 *   open: (kind, n) => openRun({ kind, n }), finish: (run, kind, n) => finishRun(run) });
 */
export async function sideBySide({ sizes, kinds, concurrency, lifetimeS, what, labelOf, open, finish, log }) {
  const order = [];
  for (const n of [...sizes].sort((a, b) => b - a)) for (const kind of kinds) order.push({ kind, n });
  const finishing = [];
  let next = 0;
  const opener = async () => {
    while (next < order.length) {
      const { kind, n } = order[next++];
      const failed = (error) => {
        log(`  ${what} ${labelOf(kind)} N=${n} failed: ${error.message}`);
        return { kind, n, lifetimeS, error: error.message };
      };
      let run;
      try {
        run = await open(kind, n);
      } catch (error) {
        finishing.push(Promise.resolve(failed(error)));
        continue;
      }
      log(`  ${what} opened ${labelOf(kind)} N=${n} in ${((run.openedAt - run.startedAt) / 1000).toFixed(1)} s`);
      finishing.push(finish(run, kind, n).catch(failed));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, opener));
  return Promise.all(finishing);
}
