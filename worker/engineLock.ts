import { workerLockName } from '../protocol/names.ts';

/**
 * Resolves once this SharedWorker may run the engine, and holds two Web Locks until it ends:
 *
 * - the engine lock of its script (`{key}:engine:{script URL}`), exclusive: at most one worker of a
 *   script runs an engine at a time. After a worker died, its tabs may start the successor under a
 *   name of its own (Firefox can hand out the closing worker under the key's name for seconds, and
 *   it never answers); a worker started later under the key waits here rather than refresh beside it.
 * - then its own lock, `{its name}:worker:{instance}`: a tab waits on it to learn that the worker
 *   died, and a tab whose hello goes unanswered finds the running worker's name in it.
 *
 *   worker A (key)        engine ─ A's lock ─────────── ✕ (ended)
 *   worker B (key#A)                                     engine ─ B's lock ──────────────
 *   worker C (key, later)                                   waits for the engine ······
 *
 * @example
 * await holdEngineLock(workerKey(config), instance); // then createEngine(config)
 */
export function holdEngineLock(key: string, instance: string): Promise<void> {
  return new Promise((held) => {
    const locks = navigator.locks;
    if (!locks) return held();
    void locks.request(`${key}:engine:${location.href}`, () =>
      // The name the tabs gave this worker (`new SharedWorker(url, { name })`).
      locks.request(workerLockName((self as unknown as { name: string }).name, instance), () => {
        held();
        return new Promise<never>(() => {});
      }),
    );
  });
}
