/**
 * The one table of what a tab may ask of the engine after its hello: each operation's argument,
 * result and validation. The SharedWorker's comlink API, the local-mode rpc channel and the tab's
 * connections all go through it, so adding an operation is one line here.
 */
import { InvalidArgumentError } from './errors.ts';
import { isTokenRequest } from './messages.ts';
import { normalizeGetTokenOptions, validateSessionId } from './options.ts';
import type { Engine, EngineStats, ReadReport, TokenRequest } from './types.ts';

/** Argument and result of each operation. */
export interface Operations {
  getToken: [TokenRequest, string | null];
  refresh: [TokenRequest, void];
  noteReads: [ReadReport[], void];
  visible: [null, void];
  setActiveSession: [string | null, void];
  signOut: [null, void];
  stats: [null, EngineStats];
}
export type Operation = keyof Operations;

/** Tabs report reads in one batch per poll interval; more keys than this in one batch is not a tab. */
export const MAX_READS_PER_REPORT = 1000;

/**
 * A `TokenRequest` that arrived from a tab, validated again (the engine trusts no tab) before any
 * network request.
 */
export function parseTokenRequest(value: unknown): TokenRequest {
  if (!isTokenRequest(value)) throw new InvalidArgumentError('request must be a TokenRequest { template, organizationId, expiresInSeconds, skipCache, leewayInSeconds }');
  return normalizeGetTokenOptions({
    ...(value.template !== null ? { template: value.template } : {}),
    organizationId: value.organizationId,
    ...(value.expiresInSeconds !== null ? { expiresInSeconds: value.expiresInSeconds } : {}),
    skipCache: value.skipCache,
    leewayInSeconds: value.leewayInSeconds,
  });
}

/**
 * A batch of read reports. `strict`: any malformed entry refuses the whole batch (the engine);
 * otherwise malformed entries are dropped (a transport passing a tab's batch on).
 */
export function parseReadReports(value: unknown, strict: boolean): ReadReport[] {
  if (!Array.isArray(value) || value.length > MAX_READS_PER_REPORT) throw new InvalidArgumentError(`reads must be an array of at most ${MAX_READS_PER_REPORT} read reports`);
  const out: ReadReport[] = [];
  for (const read of value as unknown[]) {
    const r = read as Partial<ReadReport> | null;
    const keyed = typeof r === 'object' && r !== null && typeof r.key === 'string';
    if (strict) {
      if (!keyed) throw new InvalidArgumentError('a read report must be { key, request }');
      out.push({ key: r.key as string, request: parseTokenRequest(r.request) });
    } else if (keyed && isTokenRequest(r.request)) {
      out.push({ key: r.key as string, request: r.request });
    }
  }
  return out;
}

type Handler<K extends Operation> = (engine: Engine, arg: unknown) => Operations[K][1] | Promise<Operations[K][1]>;

const HANDLERS: { [K in Operation]: Handler<K> } = {
  getToken: (engine, arg) => engine.getToken(parseTokenRequest(arg)),
  refresh: (engine, arg) => engine.refresh(parseTokenRequest(arg)),
  noteReads: (engine, arg) => engine.noteReads(parseReadReports(arg, false)),
  visible: (engine) => engine.visible(),
  setActiveSession: (engine, arg) => engine.setActiveSession(arg === null ? null : validateSessionId(arg)),
  signOut: (engine) => engine.signOut(),
  stats: (engine) => engine.stats(),
};

/** Every operation's name. */
export const OPERATIONS = Object.keys(HANDLERS) as readonly Operation[];

export function isOperation(value: unknown): value is Operation {
  return typeof value === 'string' && Object.hasOwn(HANDLERS, value);
}

/**
 * Validates `arg` for `op` and runs it on `engine`.
 *
 * @example
 * await invoke(engine, 'getToken', request); // 'eyJ…' or null
 */
export async function invoke<K extends Operation>(engine: Engine, op: K, arg: unknown): Promise<Operations[K][1]> {
  return (HANDLERS[op] as Handler<K>)(engine, arg);
}
