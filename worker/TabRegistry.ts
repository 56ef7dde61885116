import { tabLockName } from '../protocol/names.ts';
import { InvalidArgumentError, type SerializedError } from '../protocol/errors.ts';
import { check, checkSessionId, isOrigin } from '../protocol/checks.ts';
import { configMismatch, parseEngineConfig } from './engineConfig.ts';
import type { Engine, EngineConfig, TabHello } from '../protocol/types.ts';

const TAB_ID = /^[A-Za-z0-9-]{1,64}$/;
/** More origins than this in one tab's `fetchOrigins` is not an app's list. */
const MAX_FETCH_ORIGINS = 100;
/** Failures kept for a tab that has not given its callback yet. */
const MAX_MISSED = 16;

/** Calls a tab's callback (a comlink proxy to the tab: a closed tab rejects, which nobody hears). */
const tell = (notify: (error: SerializedError) => void, error: SerializedError): void => void Promise.resolve(notify(error)).catch(() => {});

/** A tab's hello, validated: the engine trusts no tab. */
export function parseHello(value: unknown): TabHello {
  const hello = value as Partial<TabHello> | null;
  if (typeof hello !== 'object' || hello === null || typeof hello.tabId !== 'string' || !TAB_ID.test(hello.tabId))
    throw new InvalidArgumentError('Malformed tab id');
  return {
    tabId: hello.tabId,
    config: parseEngineConfig(hello.config),
    sessionId: hello.sessionId == null ? null : checkSessionId(hello.sessionId),
    visible: hello.visible === true,
    fetchOrigins: [
      ...check<string[]>(
        hello.fetchOrigins,
        Array.isArray(hello.fetchOrigins) && hello.fetchOrigins.length <= MAX_FETCH_ORIGINS && hello.fetchOrigins.every(isOrigin),
        'fetchOrigins',
      ),
    ],
  };
}

/** Refuses a tab whose worker-level options differ from those the engine was started with (SPEC 2). */
export function checkConfig(running: EngineConfig, asked: EngineConfig, startedBy: string): void {
  const option = configMismatch(running, asked);
  if (option) {
    throw new InvalidArgumentError(`${option} differs from the one ${startedBy} was started with`);
  }
}

/**
 * The tabs of one engine, and the one place a tab is admitted (the SharedWorker and the local-mode
 * leader both use it). The engine cannot see a tab close — a SharedWorker port has no close event —
 * so each tab holds the Web Lock `tabtoken:tab:{id}` for its lifetime and the registry waits on it:
 * being granted it means the tab is gone.
 *
 * @example
 * const tabs = new TabRegistry(engine, navigator.locks);
 * await tabs.admit(parseHello(message), lockHeld);
 */
export class TabRegistry {
  readonly #engine: Engine;
  readonly #locks: LockManager | undefined;
  /**
   * Each tab, with the callback that hears the engine's unawaited failures (shared mode), the
   * failures it has not heard yet (a new tab's first hello comes without a callback, its second with
   * one), and the origins its `tokens.fetch` may send a token to besides the page's own.
   */
  readonly #tabs = new Map<string, { notify: ((error: SerializedError) => void) | null; missed: SerializedError[]; fetchOrigins: readonly string[] }>();

  constructor(engine: Engine, locks: LockManager | undefined) {
    this.#engine = engine;
    this.#locks = locks;
  }

  /**
   * Counts the tab, waits on its lock once `lockHeld` settles (waiting earlier could be granted at
   * once, before the tab took it), applies the session it asked for, and resolves once the engine is
   * ready and the tab's visibility is known. `notify` hears the engine's failures no call awaits.
   */
  async admit(hello: TabHello, lockHeld: Promise<void>, notify: ((error: SerializedError) => void) | null = null): Promise<void> {
    const { tabId } = hello;
    const known = this.#tabs.get(tabId);
    const missed = known?.missed ?? [];
    this.#tabs.set(tabId, { notify, missed: notify ? [] : missed, fetchOrigins: hello.fetchOrigins });
    // What happened between the tab's first hello and the one that brought its callback.
    if (notify) for (const error of missed) tell(notify, error);
    if (!known) {
      this.#engine.setTabCount(this.#tabs.size);
      void lockHeld.then(() => this.#locks?.request(tabLockName(tabId), () => this.drop(tabId)));
    }
    if (hello.sessionId !== null && this.#engine.snapshot().sessionId !== hello.sessionId) await this.#engine.useSession(hello.sessionId);
    await this.#engine.ready;
    if (hello.visible) this.#engine.visible();
  }

  /** Tells every tab about a failure no call awaits: now, or once it has said where (at most the last 16). */
  notify(error: SerializedError): void {
    for (const { notify, missed } of this.#tabs.values()) {
      if (notify) tell(notify, error);
      else if (missed.push(error) > MAX_MISSED) missed.shift();
    }
  }

  /** The `fetchOrigins` of a tab's hello; none for a tab that has not said hello. */
  fetchOrigins(tabId: string): readonly string[] {
    return this.#tabs.get(tabId)?.fetchOrigins ?? [];
  }

  /** The tab closed (its lock was granted) or said bye. */
  drop(tabId: string): void {
    if (this.#tabs.delete(tabId)) this.#engine.setTabCount(this.#tabs.size);
  }
}
