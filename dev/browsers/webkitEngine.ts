/**
 * WebKitGTK through WebKitWebDriver (W3C WebDriver, classic) driving MiniBrowser in automation mode,
 * under xvfb-run: MiniBrowser has no headless switch and needs a display. A profile is a WebDriver
 * session (a MiniBrowser of its own, with its own ephemeral website data), a tab a window of it
 * (each visible, as in headless Chromium); WebKitWebDriver holds one session at a time, so profiles
 * open at once each have a driver. The session's first window stays open on about:blank, so
 * closing every tab of the app does not end the session. WebDriver gives a test no way to end a
 * SharedWorker from outside.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { evaluationScript, evaluationValue, type Engine, type EngineProfile, type EngineTab } from './Engine.ts';
import { freePort } from '../ports.ts';
import { miniBrowserPath, webkitWebDriverPath, xvfbRunPath } from './paths.ts';
import { webDriverCommand, WebDriverSession } from './WebDriverSession.ts';

/** Starts WebKitWebDriver (under xvfb-run unless there is a display) and waits for its /status. */
async function startDriver(): Promise<{ base: string; process: ChildProcess; output: () => string }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const driver = [webkitWebDriverPath(), `--port=${port}`, '--host=127.0.0.1'];
    const xvfb = xvfbRunPath();
    const [command, ...args] = xvfb ? [xvfb, '--auto-servernum', '--server-args=-screen 0 1280x1024x24 -nolisten tcp', ...driver] : driver;
    // Its own process group, so that closing ends xvfb-run, Xvfb, the driver and its browsers together.
    const child = spawn(command!, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && child.exitCode === null) {
      const ready = await webDriverCommand<{ ready: boolean }>(base, 'GET', '/status').then(
        (s) => s.ready,
        () => false,
      );
      if (ready) return { base, process: child, output: () => output };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    stopGroup(child);
    // The port may have been taken between choosing and binding it: try another, twice.
    if (attempt >= 3) throw new Error(`WebKitWebDriver did not start: ${output.trim().split('\n').slice(-3).join(' | ')}`);
  }
}

function stopGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}

/**
 * The script WebDriver's "execute async script" runs: the shared evaluation expression, its result
 * handed to WebDriver's callback (the last argument).
 */
function asyncScript(fn: (arg: never) => unknown, arg: unknown): string {
  return `const done = arguments[arguments.length - 1];\n${evaluationScript(fn, arg)}.then(done, (e) => done({ error: String(e) }));`;
}

function profileOf(session: WebDriverSession): EngineProfile {
  const tabs = new Map<string, EngineTab>();
  const tabOf = (window: string): EngineTab => {
    const existing = tabs.get(window);
    if (existing) return existing;
    const tab: EngineTab = {
      id: window,
      evaluate: async (fn, arg) =>
        evaluationValue(await session.inWindow(window, (send) => send('POST', '/execute/async', { script: asyncScript(fn, arg), args: [] })), window),
      reload: () => session.inWindow(window, (send) => send<null>('POST', '/refresh').then(() => {})),
      navigate: (url) => session.inWindow(window, (send) => send<null>('POST', '/url', { url }).then(() => {})),
      back: () => session.inWindow(window, (send) => send<null>('POST', '/back').then(() => {})),
      async close() {
        await session.closeWindow(window);
        tabs.delete(window);
      },
    };
    tabs.set(window, tab);
    return tab;
  };
  return {
    async openTab(url) {
      // A window of its own, not a tab: MiniBrowser shows only the selected tab of a window, and a
      // hidden WebKit page has its timers throttled (20 zero-delay timeouts took 8 s instead of 50 ms).
      const window = await session.newWindow('window');
      await session.inWindow(window, (send) => send('POST', '/url', { url }));
      return tabOf(window);
    },
    async listTabs() {
      const open = new Set(await session.windows());
      return [...tabs.keys()].filter((w) => open.has(w)).map(tabOf);
    },
    close: () => session.end(),
  };
}

type Driver = Awaited<ReturnType<typeof startDriver>>;

export async function launchWebKit(): Promise<Engine> {
  const browser = miniBrowserPath();
  if (browser === null) throw new Error('MiniBrowser not found');
  const capabilities = { browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: browser, args: ['--automation'] } };
  // WebKitWebDriver runs one session at a time: profiles open at once get a driver each, and a
  // closed profile's driver serves the next one.
  const drivers: Driver[] = [];
  const idle: Driver[] = [];
  const sessions = new Set<WebDriverSession>();
  async function session(): Promise<[WebDriverSession, Driver]> {
    const driver = idle.pop() ?? (await startDriver());
    if (!drivers.includes(driver)) drivers.push(driver);
    try {
      return [await WebDriverSession.create(driver.base, capabilities, 120_000), driver];
    } catch (error) {
      throw new Error(`MiniBrowser did not start: ${(error as Error).message} ${driver.output().trim().split('\n').slice(-3).join(' | ')}`);
    }
  }
  const stopAll = () => {
    for (const d of drivers) stopGroup(d.process);
  };
  // One session up front: it tells the version, and a failure to start MiniBrowser shows here.
  let spare: [WebDriverSession, Driver] | null = await session().catch((error: unknown) => {
    stopAll();
    throw error;
  });
  const version = `MiniBrowser ${String(spare[0].capabilities.browserVersion ?? '')}`.trim();
  return {
    name: 'webkit',
    version,
    async newProfile() {
      const [s, driver] = spare ?? (await session());
      spare = null;
      sessions.add(s);
      const profile = profileOf(s);
      return {
        ...profile,
        async close() {
          sessions.delete(s);
          await profile.close();
          idle.push(driver);
        },
      };
    },
    endSharedWorkers: null,
    async close() {
      for (const s of [...sessions, ...(spare ? [spare[0]] : [])]) await s.end().catch(() => {});
      stopAll();
    },
  };
}
