/**
 * Web Locks for unit tests in Node (which has none): exclusive locks by name, granted in request
 * order, held until the callback's promise settles; `held(name)` and `waiting(name)` let a test
 * see who is where. Grants run on the microtask queue, as in browsers.
 */
interface Request {
  callback: (lock: Lock) => unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class FakeLocks {
  readonly #held = new Set<string>();
  readonly #queues = new Map<string, Request[]>();

  readonly manager = {
    request: (name: string, ...rest: unknown[]): Promise<unknown> => {
      const callback = rest[rest.length - 1] as (lock: Lock) => unknown;
      const signal = rest.length > 1 ? (rest[0] as { signal?: AbortSignal }).signal : undefined;
      return new Promise((resolve, reject) => {
        const queue = this.#queues.get(name) ?? [];
        const request = { callback, resolve, reject };
        queue.push(request);
        this.#queues.set(name, queue);
        // A request withdrawn before it was granted leaves the queue and rejects, as in browsers.
        signal?.addEventListener('abort', () => {
          const at = queue.indexOf(request);
          if (at < 0) return;
          queue.splice(at, 1);
          reject(new DOMException('The request was aborted', 'AbortError'));
        });
        queueMicrotask(() => this.#grant(name));
      });
    },
    query: async () => ({ held: [...this.#held].map((name) => ({ name, mode: 'exclusive' })), pending: [] }),
  } as unknown as LockManager;

  isHeld(name: string): boolean {
    return this.#held.has(name);
  }

  waiting(name: string): number {
    return this.#queues.get(name)?.length ?? 0;
  }

  /** Takes `name` for the test itself; returns the release. */
  async hold(name: string): Promise<() => void> {
    let release!: () => void;
    let granted!: () => void;
    const got = new Promise<void>((r) => (granted = r));
    void this.manager.request(name, () => {
      granted();
      return new Promise<void>((r) => (release = r));
    });
    await got;
    return release;
  }

  #grant(name: string): void {
    if (this.#held.has(name)) return;
    const next = this.#queues.get(name)?.shift();
    if (!next) return;
    this.#held.add(name);
    let result: unknown;
    try {
      result = next.callback({ name, mode: 'exclusive' } as Lock);
    } catch (error) {
      result = Promise.reject(error);
    }
    Promise.resolve(result)
      .then(next.resolve, next.reject)
      .finally(() => {
        this.#held.delete(name);
        queueMicrotask(() => this.#grant(name));
      });
  }
}
