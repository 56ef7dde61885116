/**
 * The one table of what a tab may ask of the engine after its hello: each operation's argument,
 * result and validation. The SharedWorker's port, the local-mode rpc channel and the tab's
 * connections all go through it, so adding an operation is one line here. Nothing else is ever
 * run for a tab: a name that is not an own key of the table is refused (SPEC 6).
 */
import { InvalidArgumentError, type SerializedError } from './errors.ts';
import type { Engine, EngineStats, Mode, TabHello, Welcome, ProofRequest, ReadReport, SignInRequest, SignedOut, Snapshot, TokenRequest } from './types.ts';
import { checkProofTarget, checkSessionId, parseReadReports, parseTokenRequest } from './checks.ts';

/** Argument and result of each operation. */
export interface Operations {
  getToken: [TokenRequest, string | null];
  // biome-ignore-start lint/suspicious/noConfusingVoidType: the result of a method that returns nothing
  refresh: [TokenRequest, void];
  noteReads: [ReadReport[], void];
  visible: [null, void];
  // biome-ignore-end lint/suspicious/noConfusingVoidType: -
  /** Results that are numbers are the version of the snapshot that shows the outcome. */
  setActiveSession: [string | null, number];
  sync: [null, number];
  signOut: [null, SignedOut];
  stats: [null, EngineStats];
  signIn: [SignInRequest, string];
  handleRedirect: [string, { returnTo: string; version: number }];
  proof: [ProofRequest, string];
  /** The engine's whole current snapshot, as a welcome carries it: how a tab resyncs its mirror (SPEC 6). */
  snapshot: [null, Snapshot];
}
export type Operation = keyof Operations;

/** What an operation runs against: the engine, and what its host knows of the calling tab. */
export interface OperationContext {
  engine: Engine;
  /** Stamped on the snapshot. */
  mode: Mode;
  /**
   * The origins the calling tab's `tokens.fetch` may send a token to — the page's own and the tab's
   * `fetchOrigins` — the only ones a DPoP proof is signed for (SPEC 6).
   */
  origins: readonly string[];
}

type Handler<K extends Operation> = (context: OperationContext, arg: unknown) => Operations[K][1] | Promise<Operations[K][1]>;

const HANDLERS: { [K in Operation]: Handler<K> } = {
  getToken: ({ engine }, arg) => engine.getToken(parseTokenRequest(arg, engine.oneToken)),
  refresh: ({ engine }, arg) => engine.refresh(parseTokenRequest(arg, engine.oneToken)),
  noteReads: ({ engine }, arg) => engine.noteReads(parseReadReports(arg)),
  visible: ({ engine }) => engine.visible(),
  setActiveSession: ({ engine }, arg) => engine.setActiveSession(arg === null ? null : checkSessionId(arg)),
  sync: ({ engine }) => engine.sync(),
  signOut: ({ engine }) => engine.signOut(),
  stats: ({ engine }) => engine.stats(),
  // Checked by the OpenID Connect adapter, whose chunk only such a manager loads.
  signIn: ({ engine }, arg) => engine.signIn(arg as SignInRequest),
  handleRedirect: ({ engine }, arg) => engine.handleRedirect(arg as string),
  // The target here (the host knows the tab); the rest of the request by the adapter.
  proof: ({ engine, origins }, arg) => engine.proof(checkProofTarget(arg, origins)),
  snapshot: ({ engine, mode }) => Object.freeze({ ...engine.snapshot(), mode }),
};

/** Every operation's name. */
export const OPERATIONS = Object.keys(HANDLERS) as readonly Operation[];

/** Whether `value` names an operation: an own key of the table (never `constructor`, `__proto__`, `toString`). */
export function isOperation(value: unknown): value is Operation {
  return typeof value === 'string' && Object.hasOwn(HANDLERS, value);
}

/**
 * Validates `arg` for `op` and runs it against `context`; any other name is `InvalidArgumentError`.
 *
 * @example
 * await invoke({ engine, mode: 'shared', origins: [location.origin] }, 'getToken', request); // 'eyJ…' or null
 */
export async function invoke<K extends Operation>(context: OperationContext, op: K, arg: unknown): Promise<Operations[K][1]> {
  if (!isOperation(op)) throw new InvalidArgumentError(`${String(op).slice(0, 40)} is not an operation of the engine`);
  return (HANDLERS[op] as Handler<K>)(context, arg);
}

/** The worker's surface as a tab sees it through comlink (one port per tab): hello, then the operations. */
export type WorkerApi = {
  /** `onError` hears the engine's failures that no call of this tab awaits (a background refresh, sign-out's end request). */
  hello(hello: TabHello, onError?: (error: SerializedError) => void): Promise<Welcome>;
  /** The tab now holds its Web Lock `tabtoken:tab:{id}`: the worker may wait on it (shared mode). */
  held(): void;
  bye(tabId: string): void;
} & { [K in Operation]: (arg: Operations[K][0]) => Promise<Operations[K][1]> };
