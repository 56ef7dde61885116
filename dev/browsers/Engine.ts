/**
 * The engine-neutral driver the cross-engine suite (test/e2e/engines/) and the cross-engine
 * benchmarks (bench/) are written against: one browser of one engine, profiles in it (each its own
 * cookie jar, storage, workers and locks, as a new browser would have), and tabs in a profile that
 * can be opened, evaluated in, reloaded, listed and closed. Three implementations: Chromium through
 * playwright-core, Firefox through puppeteer-core over WebDriver BiDi, WebKitGTK through
 * WebKitWebDriver over W3C WebDriver.
 *
 * Everything crosses as JSON, the same way in every engine: `evaluate` sends the function's source,
 * runs it in the page, awaits it and brings back `JSON.parse(JSON.stringify(result))`. A function
 * given to `evaluate` runs in the page: it may use only its argument and the page's globals.
 */

export type EngineName = 'chromium' | 'firefox' | 'webkit';

export const ENGINE_NAMES: readonly EngineName[] = ['chromium', 'firefox', 'webkit'];

/** How the reports name each engine. */
export const ENGINE_LABELS: Record<EngineName, string> = {
  chromium: 'Chromium',
  firefox: 'Firefox ESR',
  webkit: 'WebKitGTK',
};

export interface EngineTab {
  /** Stable for the tab's life: the driver's own handle of it. */
  readonly id: string;
  /** Runs `fn(arg)` in the page, awaits it, and answers its result as JSON brings it back. */
  evaluate<R, A = undefined>(fn: (arg: A) => R | PromiseLike<R>, arg?: A): Promise<R>;
  /** Reloads the page and waits for its load event (not for its module scripts: see `waitInTab`). */
  reload(): Promise<void>;
  /** Navigates the tab to `url` (a new document in the same tab, so a history entry) and waits for its load event. */
  navigate(url: string): Promise<void>;
  /**
   * Goes back one history entry and returns once the navigation has committed — not at the load
   * event, which a page restored from the back/forward cache does not fire. What comes back may be
   * the stored page or a new load of it: ask the page (`pageshow`'s `persisted`).
   */
  back(): Promise<void>;
  close(): Promise<void>;
}

export interface EngineProfile {
  /** Opens a new top-level tab at `url` and waits for its load event. */
  openTab(url: string): Promise<EngineTab>;
  /** The tabs of this profile that are open now, as the browser lists them, in the order opened. */
  listTabs(): Promise<EngineTab[]>;
  close(): Promise<void>;
}

export interface Engine {
  readonly name: EngineName;
  /** The browser's own version string. */
  readonly version: string;
  /** A profile of its own: what a test uses as "a new browser". */
  newProfile(): Promise<EngineProfile>;
  /**
   * Ends, from outside, every SharedWorker whose script URL or name contains `urlPart`, as the browser does
   * under memory pressure or after a crash; answers how many it ended. `null` where the browser gives a
   * test no way to do that (Firefox over WebDriver BiDi, WebKitGTK over WebDriver).
   */
  readonly endSharedWorkers: ((urlPart: string) => Promise<number>) | null;
  close(): Promise<void>;
}

/**
 * The one script every driver runs for `evaluate`: an expression that calls the function with its
 * JSON argument and resolves with `{ ok: json }` or `{ error: message }`, so a page's own rejection
 * reaches the test with its message in every engine.
 */
export function evaluationScript(fn: (arg: never) => unknown, arg: unknown): string {
  const argument = arg === undefined ? 'undefined' : JSON.stringify(arg);
  return `(async () => {
    try {
      const value = await (${fn.toString()})(${argument});
      return { ok: value === undefined ? null : JSON.stringify(value) };
    } catch (error) {
      return { error: error instanceof Error ? error.name + ': ' + error.message : String(error) };
    }
  })()`;
}

export type EvaluationResult = { ok: string | null; error?: undefined } | { error: string; ok?: undefined };

/** Turns what `evaluationScript` resolved with into the value, or throws the page's error. */
export function evaluationValue<R>(result: unknown, where: string): R {
  if (typeof result !== 'object' || result === null) throw new Error(`${where}: the page answered ${JSON.stringify(result)}`);
  const { ok, error } = result as EvaluationResult;
  if (typeof error === 'string') throw new Error(`${where}: ${error}`);
  return (ok === null || ok === undefined ? undefined : JSON.parse(ok)) as R;
}

/** A driver's page that runs a script given as a string: playwright's and puppeteer's alike. */
export interface ScriptPage {
  evaluate(script: string): Promise<unknown>;
  reload(): Promise<unknown>;
  goto(url: string): Promise<unknown>;
  close(): Promise<void>;
}

const tabsOpened: Record<EngineName, number> = { chromium: 0, firefox: 0, webkit: 0 };

/**
 * The tabs of one profile over a driver's pages: one `EngineTab` per page, the same object each
 * time the page comes back (opened, then listed), named `{engine}-tab-{n}`.
 */
export function pageTabs<P extends ScriptPage>(engine: EngineName, back: (page: P) => Promise<void>): (page: P) => EngineTab {
  const known = new WeakMap<P, EngineTab>();
  return (page) => {
    const existing = known.get(page);
    if (existing) return existing;
    const id = `${engine}-tab-${++tabsOpened[engine]}`;
    const tab: EngineTab = {
      id,
      evaluate: async (fn, arg) => evaluationValue(await page.evaluate(evaluationScript(fn, arg)), id),
      reload: async () => void (await page.reload()),
      navigate: async (url) => void (await page.goto(url)),
      back: () => back(page),
      close: () => page.close(),
    };
    known.set(page, tab);
    return tab;
  };
}

/**
 * Polls `fn(arg)` in the tab every `everyMs` until it answers something other than
 * `false`/`null`/`undefined`, and answers that. Pages are polled rather than awaited so that no
 * call stays open in a driver that runs one command at a time (classic WebDriver), and because a
 * navigation can return before the page's module scripts ran (WebKitWebDriver).
 */
export async function waitInTab<R, A = undefined>(
  tab: EngineTab,
  fn: (arg: A) => R | false | null | undefined | PromiseLike<R | false | null | undefined>,
  arg: A,
  o: { timeoutMs?: number; everyMs?: number; what: string },
): Promise<R> {
  const deadline = Date.now() + (o.timeoutMs ?? 15_000);
  for (;;) {
    const value = await tab.evaluate(fn, arg);
    if (value !== false && value !== null && value !== undefined) return value as R;
    if (Date.now() > deadline) throw new Error(`Timed out after ${o.timeoutMs ?? 15_000} ms waiting for ${o.what}`);
    await new Promise((resolve) => setTimeout(resolve, o.everyMs ?? 50));
  }
}
