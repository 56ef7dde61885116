/**
 * The one table of what a tab may ask of the engine after its hello: each operation's argument,
 * result and validation. The SharedWorker's comlink API, the local-mode rpc channel and the tab's
 * connections all go through it, so adding an operation is one line here.
 */
import type { SerializedError } from './errors.ts';
import type { Engine, EngineStats, TabHello, Welcome, ProofRequest, ReadReport, SignInRequest, SignedOut, TokenRequest } from './types.ts';
import { checkSessionId, parseReadReports, parseTokenRequest } from './checks.ts';

/** Argument and result of each operation. */
export interface Operations {
  getToken: [TokenRequest, string | null];
  refresh: [TokenRequest, void];
  noteReads: [ReadReport[], void];
  visible: [null, void];
  /** Results that are numbers are the version of the snapshot that shows the outcome. */
  setActiveSession: [string | null, number];
  sync: [null, number];
  signOut: [null, SignedOut];
  stats: [null, EngineStats];
  signIn: [SignInRequest, string];
  handleRedirect: [string, { returnTo: string; version: number }];
  proof: [ProofRequest, string];
}
export type Operation = keyof Operations;

type Handler<K extends Operation> = (engine: Engine, arg: unknown) => Operations[K][1] | Promise<Operations[K][1]>;

const HANDLERS: { [K in Operation]: Handler<K> } = {
  getToken: (engine, arg) => engine.getToken(parseTokenRequest(arg, engine.oneToken)),
  refresh: (engine, arg) => engine.refresh(parseTokenRequest(arg, engine.oneToken)),
  noteReads: (engine, arg) => engine.noteReads(parseReadReports(arg)),
  visible: (engine) => engine.visible(),
  setActiveSession: (engine, arg) => engine.setActiveSession(arg === null ? null : checkSessionId(arg)),
  sync: (engine) => engine.sync(),
  signOut: (engine) => engine.signOut(),
  stats: (engine) => engine.stats(),
  // Checked by the OpenID Connect adapter, whose chunk only such a manager loads.
  signIn: (engine, arg) => engine.signIn(arg as SignInRequest),
  handleRedirect: (engine, arg) => engine.handleRedirect(arg as string),
  proof: (engine, arg) => engine.proof(arg as ProofRequest),
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

/** The worker's surface as a tab sees it through comlink (one port per tab): hello, then the operations. */
export type WorkerApi = {
  /** `onError` hears the engine's failures that no call of this tab awaits (a background refresh, sign-out's end request). */
  hello(hello: TabHello, onError?: (error: SerializedError) => void): Promise<Welcome>;
  /** The tab now holds its Web Lock `tabtoken:tab:{id}`: the worker may wait on it (shared mode). */
  held(): void;
  bye(tabId: string): void;
} & { [K in Operation]: (arg: Operations[K][0]) => Promise<Operations[K][1]> };
