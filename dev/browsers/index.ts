/** Launches one engine by name (see Engine.ts for the driver interface). */
import type { Engine, EngineName } from './Engine.ts';
import { launchChromium } from './chromiumEngine.ts';
import { launchFirefox } from './firefoxEngine.ts';
import { firefoxPath } from './paths.ts';
import { launchWebKit } from './webkitEngine.ts';

export * from './Engine.ts';
export { engineMissing } from './paths.ts';

export function launchEngine(name: EngineName): Promise<Engine> {
  switch (name) {
    case 'chromium':
      return launchChromium();
    case 'firefox':
      return launchFirefox(firefoxPath());
    case 'webkit':
      return launchWebKit();
  }
}
