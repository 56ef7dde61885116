/**
 * A small W3C WebDriver (classic) client over fetch, for WebKitWebDriver: the dozen commands the
 * engine driver needs. Written here rather than taken from webdriverio or selenium-webdriver because
 * it is the whole of what is needed — those bring a large dependency tree (and driver-download logic
 * that cannot run here) for the same dozen HTTP calls — and because what matters is the one thing
 * they do not do for us: classic WebDriver has one "current window" per session, and two commands in
 * flight at once race on it (`execute` lands in whichever window the other switched to). So every
 * command of a session goes through one queue, and each tab command switches to its window first.
 */

export class WebDriverError extends Error {
  override name = 'WebDriverError';
  constructor(
    message: string,
    readonly error: string,
  ) {
    super(message);
  }
}

/** POSTs (or GETs, DELETEs) one command; answers its `value` or throws the driver's error. */
export async function webDriverCommand<T>(base: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: object): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
  });
  const text = await res.text();
  let json: { value?: unknown };
  try {
    json = JSON.parse(text) as { value?: unknown };
  } catch {
    throw new WebDriverError(`${method} ${path}: ${res.status} ${text.slice(0, 200)}`, 'unknown error');
  }
  if (!res.ok) {
    const value = (json.value ?? {}) as { error?: string; message?: string };
    throw new WebDriverError(`${method} ${path}: ${value.error ?? res.status}: ${value.message ?? text.slice(0, 200)}`, value.error ?? 'unknown error');
  }
  return json.value as T;
}

export class WebDriverSession {
  #queue: Promise<unknown> = Promise.resolve();
  #current: string | null = null;

  private constructor(
    readonly base: string,
    readonly id: string,
    /** The window the session started with. */
    readonly firstWindow: string,
    readonly capabilities: Record<string, unknown>,
  ) {}

  static async create(base: string, capabilities: object, scriptTimeoutMs: number): Promise<WebDriverSession> {
    const created = await webDriverCommand<{ sessionId: string; capabilities: Record<string, unknown> }>(base, 'POST', '/session', {
      capabilities: { alwaysMatch: capabilities },
    });
    const path = `/session/${created.sessionId}`;
    await webDriverCommand(base, 'POST', `${path}/timeouts`, { script: scriptTimeoutMs, pageLoad: 60_000 });
    const window = await webDriverCommand<string>(base, 'GET', `${path}/window`);
    const session = new WebDriverSession(base, created.sessionId, window, created.capabilities);
    session.#current = window;
    return session;
  }

  /** Runs `work` alone on the session: nothing else is sent until it settles. */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => {});
    return run;
  }

  #send<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: object): Promise<T> {
    return webDriverCommand<T>(this.base, method, `/session/${this.id}${path}`, body);
  }

  async #switchTo(window: string): Promise<void> {
    if (this.#current === window) return;
    await this.#send('POST', '/window', { handle: window });
    this.#current = window;
  }

  /** Runs `command` in `window`, with no other command of the session in between. */
  inWindow<T>(window: string, command: (send: <U>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: object) => Promise<U>) => Promise<T>): Promise<T> {
    return this.#exclusive(async () => {
      await this.#switchTo(window);
      return command((method, path, body) => this.#send(method, path, body));
    });
  }

  /** A new top-level browsing context (a window, or a tab of the current one); answers its handle. */
  newWindow(type: 'window' | 'tab'): Promise<string> {
    return this.#exclusive(async () => (await this.#send<{ handle: string }>('POST', '/window/new', { type })).handle);
  }

  /** Closes `window`, then goes back to the first window (closing the current one leaves none current). */
  closeWindow(window: string): Promise<void> {
    return this.#exclusive(async () => {
      await this.#switchTo(window);
      await this.#send('DELETE', '/window');
      this.#current = null;
      await this.#switchTo(this.firstWindow);
    });
  }

  windows(): Promise<string[]> {
    return this.#exclusive(() => this.#send<string[]>('GET', '/window/handles'));
  }

  end(): Promise<void> {
    return this.#exclusive(async () => {
      await this.#send('DELETE', '');
    });
  }
}
