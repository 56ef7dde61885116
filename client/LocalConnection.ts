/**
 * Local mode (no SharedWorker): one tab per `{namespace, origin}` leads — it holds the leader Web
 * Lock and runs the engine — and the others are followers that send their requests on the `:rpc`
 * channel. When the leader closes, the lock passes to another tab, which loads the engine,
 * announces itself with `hello`, and answers from then on; a request with no reply within two poll
 * intervals is sent again, so it reaches the new leader. Without Web Locks each tab leads itself.
 *
 * This file is loaded with `import()` only when local mode is used.
 */
import { CALL_TIMEOUT_MS, CONNECT_TIMEOUT_MS, PROTOCOL_VERSION } from '../protocol/constants.ts';
import { randomId } from '../protocol/randomId.ts';
import { leaderLockName, rpcChannelName } from '../protocol/names.ts';
import { systemClock, type Clock } from '../protocol/clock.ts';
import { ConnectionError, deserializeError, isRecord, isSerializedError, type SerializedError, type TokenError } from '../protocol/errors.ts';
import { isBroadcast, parseSnapshot, type BroadcastMessage, type RpcRequest } from '../protocol/messages.ts';
import type { Operation, Operations } from '../protocol/operations.ts';
import type { EngineConfig, TabHello, Welcome } from '../protocol/types.ts';
import type { LocalHost, LocalHostOptions } from '../worker/localHost.ts';
import { closedError, type Connection } from './Connection.ts';
import type { SnapshotMirror } from './SnapshotMirror.ts';

type Op = RpcRequest['op'];

interface Pending {
  op: Op;
  opts: unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  resend: unknown;
  timeout: unknown;
}

/** What the connection uses of the platform; tests pass fakes. */
export interface LocalDeps {
  clock: Clock;
  /** Web Locks; undefined where the browser has none (then this tab leads only itself). */
  locks: LockManager | undefined;
  channel(name: string): BroadcastChannel;
  /** Loads the engine (a separate chunk); what it resolves with starts it in this tab. */
  loadHost(): Promise<(config: EngineConfig, options: LocalHostOptions) => LocalHost>;
}

const platform = (): LocalDeps => ({
  clock: systemClock,
  locks: typeof navigator !== 'undefined' ? navigator.locks : undefined,
  channel: (name) => new BroadcastChannel(name),
  loadHost: async () => (await import('../worker/localHost.ts')).startLocalHost,
});

const isVersion = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * What the leader's `result` must look like, by operation (the leader is another tab: its replies
 * are checked like any message). Operations not listed resolve with nothing.
 */
const RESULTS: Partial<Record<Operation, (result: unknown) => boolean>> = {
  stats: isRecord,
  setActiveSession: isVersion,
  sync: isVersion,
  signOut: (r) => isRecord(r) && isVersion(r.version) && (r.redirect === null || typeof r.redirect === 'string'),
  signIn: (r) => typeof r === 'string',
  handleRedirect: (r) => isRecord(r) && isVersion(r.version) && typeof r.returnTo === 'string',
  proof: (r) => typeof r === 'string',
};

export class LocalConnection implements Connection {
  readonly mode = 'local' as const;
  readonly #config: EngineConfig;
  readonly #tabId: string;
  readonly #mirror: SnapshotMirror;
  readonly #deps: LocalDeps;
  readonly #publish: BroadcastChannel | null;
  readonly #rpc: BroadcastChannel | null;
  readonly #pending = new Map<string, Pending>();
  #host: LocalHost | null = null;
  #hosting: Promise<LocalHost> | null = null;
  #hello: TabHello | null = null;
  #onError: (error: TokenError) => void = () => {};
  #stopLeading: (() => void) | null = null;
  readonly #withdraw = new AbortController();
  #closed = false;

  /** `key`: the worker key, which names the channels and the leader lock. */
  constructor(config: EngineConfig, tabId: string, key: string, mirror: SnapshotMirror, deps: LocalDeps = platform()) {
    this.#config = config;
    this.#tabId = tabId;
    this.#mirror = mirror;
    this.#deps = deps;
    if (!deps.locks) {
      // No Web Locks, no election: this tab refreshes for itself and tells no one.
      this.#publish = null;
      this.#rpc = null;
      this.#hosting = this.#lead(null);
      return;
    }
    this.#publish = deps.channel(key);
    // The tab's mirror ignores `hello`: a follower hears the leaders announce themselves here.
    this.#publish.onmessage = ({ data }: MessageEvent) => {
      if (isBroadcast(data) && data.type === 'hello') this.onLeaderHello(data.instance, data.snapshot);
    };
    this.#rpc = deps.channel(rpcChannelName(key));
    this.#rpc.onmessage = (event: MessageEvent) => this.#onReply(event.data);
    this.#elect(deps.locks, leaderLockName(key), rpcChannelName(key));
  }

  /** Whether this tab runs the engine. */
  get leading(): boolean {
    return this.#host !== null;
  }

  /**
   * Queues for the leader lock. A tab that gets it but cannot start the engine (its code failed to
   * load) gives the lock up and queues again: holding it would leave every tab without a leader.
   */
  #elect(locks: LockManager, lockName: string, rpcName: string): void {
    // Withdrawn on close: a follower closed because its page went into the back/forward cache must
    // not be granted the lock there (the grant would run in the stored page, which is evicted for it).
    locks
      .request(lockName, { signal: this.#withdraw.signal }, () => {
        if (this.#closed) return undefined;
        // Held until this tab closes (or close() is called): then the next tab in line leads.
        return new Promise<void>((release) => {
          this.#stopLeading = release;
          this.#hosting = this.#lead(rpcName);
          this.#hosting.catch(() => {
            if (this.#host) return; // the engine runs: this tab leads, whatever failed after
            this.#stopLeading = null;
            release();
            if (!this.#closed) this.#deps.clock.setTimeout(() => this.#elect(locks, lockName, rpcName), this.#config.pollIntervalMs);
          });
        });
      })
      .catch(() => {});
  }

  /** A leader announced itself on the channel: follow it. */
  onLeaderHello(instance: string, announced: unknown): void {
    if (this.#host || this.#hello === null || instance === this.#mirror.instance) return;
    const snapshot = parseSnapshot(announced);
    if (snapshot?.mode !== 'local') return;
    this.#mirror.adopt(instance, snapshot);
    // Tell the new leader this tab exists first — so it counts it, waits on its lock, and knows its
    // fetchOrigins before a proof request of this tab arrives — then send it what the previous leader
    // will not answer now.
    const resent = [...this.#pending];
    if (!resent.some(([, p]) => p.op === 'hello')) this.#request('hello', this.#hello).catch(() => {});
    for (const [id, pending] of resent) this.#send(id, pending.op, pending.opts);
  }

  async #lead(rpcName: string | null): Promise<LocalHost> {
    const publish = this.#publish
      ? (message: BroadcastMessage) => this.#publish?.postMessage(message)
      : (message: BroadcastMessage) => this.#mirror.apply(message);
    const onError = (wire: SerializedError) => this.#onError(deserializeError(wire));
    const host = (await this.#deps.loadHost())(this.#config, { publish, rpcName, onError });
    this.#host = host;
    if (this.#hello) {
      const welcome = await host.hello(this.#hello);
      this.#mirror.adopt(welcome.instance, welcome.snapshot);
    }
    // What this tab had asked the previous leader, it now answers itself.
    for (const [id, pending] of [...this.#pending]) {
      this.#settle(id);
      this.#direct(host, pending.op, pending.opts).then(pending.resolve, pending.reject);
    }
    return host;
  }

  #direct(host: LocalHost, op: Op, opts: unknown): Promise<unknown> {
    return op === 'hello' ? host.hello(opts as TabHello) : host.run(this.#tabId, op, opts);
  }

  #request(op: Op, opts: unknown, timeoutMs = CALL_TIMEOUT_MS): Promise<unknown> {
    if (this.#closed) return Promise.reject(closedError());
    if (this.#host) return this.#direct(this.#host, op, opts);
    if (!this.#rpc) return (this.#hosting ?? Promise.reject(new ConnectionError('No engine'))).then((host) => this.#direct(host, op, opts));
    const id = randomId();
    const { clock } = this.#deps;
    return new Promise((resolve, reject) => {
      const pending: Pending = { op, opts, resolve, reject, resend: null, timeout: null };
      const resend = (): void => {
        pending.resend = clock.setTimeout(() => {
          this.#send(id, op, opts);
          resend();
        }, 2 * this.#config.pollIntervalMs);
      };
      resend();
      pending.timeout = clock.setTimeout(() => {
        this.#settle(id);
        reject(new ConnectionError(`${op} got no answer from the leader tab within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.#pending.set(id, pending);
      this.#send(id, op, opts);
    });
  }

  #send(id: string, op: Op, opts: unknown): void {
    const request: RpcRequest = { v: PROTOCOL_VERSION, type: 'request', id, tab: this.#tabId, op, opts };
    this.#rpc?.postMessage(request);
  }

  #settle(id: string): Pending | undefined {
    const pending = this.#pending.get(id);
    if (!pending) return undefined;
    this.#pending.delete(id);
    this.#deps.clock.clearTimeout(pending.resend);
    this.#deps.clock.clearTimeout(pending.timeout);
    return pending;
  }

  /** A reply on the rpc channel: trusted only for an id this tab is waiting on, and only its shape. */
  #onReply(data: unknown): void {
    if (!isRecord(data) || data.v !== PROTOCOL_VERSION) return;
    if (data.type === 'event') {
      // Only from the leader this tab follows, and only a well-formed error.
      if (!this.#host && data.instance === this.#mirror.instance && isSerializedError(data.error)) this.#onError(deserializeError(data.error));
      return;
    }
    if (data.type !== 'reply' || typeof data.id !== 'string') return;
    const pending = this.#settle(data.id);
    if (!pending) return;
    if (data.error !== undefined) return pending.reject(deserializeError(data.error));
    switch (pending.op) {
      case 'hello': {
        const result = data.result;
        const snapshot = isRecord(result) && typeof result.instance === 'string' ? parseSnapshot(result.snapshot) : null;
        if (!snapshot || !isRecord(result)) return pending.reject(new ConnectionError('The leader tab sent a malformed welcome'));
        return pending.resolve({ instance: result.instance, snapshot });
      }
      case 'getToken':
        if (data.jwt === null || typeof data.jwt === 'string') return pending.resolve(data.jwt);
        return pending.reject(new ConnectionError('The leader tab sent a malformed token'));
      case 'snapshot': {
        // Adopted whatever its version (SPEC 6): checked field by field like a leader's hello.
        const snapshot = parseSnapshot(data.result);
        return snapshot ? pending.resolve(snapshot) : pending.reject(new ConnectionError('The leader tab sent a malformed snapshot'));
      }
      default: {
        const valid = RESULTS[pending.op];
        if (!valid) return pending.resolve(undefined);
        return valid(data.result) ? pending.resolve(data.result) : pending.reject(new ConnectionError(`The leader tab sent a malformed ${pending.op} result`));
      }
    }
  }

  async hello(hello: TabHello, onError: (error: TokenError) => void): Promise<Welcome> {
    this.#hello = hello;
    this.#onError = onError;
    const welcome = (await this.#request('hello', hello, CONNECT_TIMEOUT_MS)) as Welcome;
    // A follower loads the engine now, while the network is there, so that taking over from a
    // leader that closes needs no fetch (the app's server may be what just went away).
    if (!this.#host && this.#rpc) this.#deps.loadHost().catch(() => {});
    return welcome;
  }

  call<K extends Operation>(op: K, arg: Operations[K][0]): Promise<Operations[K][1]> {
    return this.#request(op, arg) as Promise<Operations[K][1]>;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [id, pending] of [...this.#pending]) {
      this.#settle(id);
      pending.reject(closedError());
    }
    this.#host?.close();
    this.#host = null;
    this.#rpc?.close();
    this.#publish?.close();
    this.#stopLeading?.();
    this.#withdraw.abort();
  }
}
