/**
 * Where each engine's browser is on this machine, and why one is missing. The same rules as
 * `scripts/tabtoken.mjs` (which installs Debian's packages where it can): an environment variable
 * first, then the Debian package's path.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromiumPath } from './chromium.ts';
import type { EngineName } from './Engine.ts';

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function firefoxPath(): string {
  return process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';
}

export function webkitWebDriverPath(): string {
  return process.env.WEBKIT_WEBDRIVER_PATH || '/usr/bin/WebKitWebDriver';
}

/** MiniBrowser, the browser WebKitWebDriver drives: shipped by Debian's libwebkit2gtk-4.1-0. */
export function miniBrowserPath(): string | null {
  if (process.env.WEBKIT_MINIBROWSER_PATH) return process.env.WEBKIT_MINIBROWSER_PATH;
  const dirs = ['/usr/lib', '/usr/libexec'];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    const candidates = [
      dir,
      ...readdirSync(dir)
        .filter((d) => d.endsWith('-linux-gnu'))
        .map((d) => join(dir, d)),
    ];
    for (const parent of candidates) {
      for (const api of ['webkit2gtk-4.1', 'webkit2gtk-4.0', 'webkitgtk-6.0']) {
        const path = join(parent, api, 'MiniBrowser');
        if (isFile(path)) return path;
      }
    }
  }
  return null;
}

/** MiniBrowser has no headless switch: it needs a display, which xvfb-run gives it. */
export function xvfbRunPath(): string | null {
  return isFile('/usr/bin/xvfb-run') ? '/usr/bin/xvfb-run' : null;
}

/** Whether the engine can be launched here; if not, one line saying what is missing. */
export function engineMissing(name: EngineName): string | null {
  switch (name) {
    case 'chromium':
      return isFile(chromiumPath()) ? null : `Chromium not found at ${chromiumPath()} (set CHROMIUM_PATH, or apt-get install chromium)`;
    case 'firefox':
      return isFile(firefoxPath()) ? null : `Firefox not found at ${firefoxPath()} (set FIREFOX_PATH, or apt-get install firefox-esr)`;
    case 'webkit': {
      if (!isFile(webkitWebDriverPath()))
        return `WebKitWebDriver not found at ${webkitWebDriverPath()} (set WEBKIT_WEBDRIVER_PATH, or apt-get install webkit2gtk-driver)`;
      if (miniBrowserPath() === null) return 'MiniBrowser not found (set WEBKIT_MINIBROWSER_PATH, or apt-get install libwebkit2gtk-4.1-0)';
      if (xvfbRunPath() === null && !process.env.DISPLAY) return 'xvfb-run not found and no DISPLAY: MiniBrowser needs a display (apt-get install xvfb)';
      return null;
    }
  }
}
