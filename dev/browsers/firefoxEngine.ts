/**
 * Firefox through puppeteer-core over WebDriver BiDi (Firefox's own remote agent: no geckodriver),
 * headless: a profile is a BiDi user context, a tab a page. BiDi gives a test no way to end a
 * SharedWorker from outside. Puppeteer reports only the last-opened tab of a window as visible.
 */
import puppeteer, { type BrowserContext, type Page } from 'puppeteer-core';
import { pageTabs, type Engine, type EngineProfile } from './Engine.ts';

function profileOf(context: BrowserContext): EngineProfile {
  // Puppeteer's goBack waits for a load that a page restored from the back/forward cache does not
  // fire, and may report the frame detached: the traversal has been made either way.
  const tabOf = pageTabs<Page>('firefox', async (page) => {
    await Promise.race([page.goBack().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2000))]);
  });
  return {
    async openTab(url) {
      const page = await context.newPage();
      await page.goto(url);
      return tabOf(page);
    },
    listTabs: async () => (await context.pages()).filter((p) => !p.isClosed()).map(tabOf),
    close: () => context.close(),
  };
}

export async function launchFirefox(executablePath: string): Promise<Engine> {
  const browser = await puppeteer.launch({ browser: 'firefox', executablePath, headless: true, protocolTimeout: 120_000 });
  return {
    name: 'firefox',
    version: await browser.version(),
    newProfile: async () => profileOf(await browser.createBrowserContext()),
    endSharedWorkers: null,
    close: () => browser.close(),
  };
}
