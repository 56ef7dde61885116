/**
 * Chromium through playwright-core (the machine's own Chromium, `executablePath`): a profile is a
 * browser context, a tab a page. The only engine whose driver can end a SharedWorker from outside
 * (DevTools `Target.closeTarget`, as a crash or memory pressure would).
 */
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { chromiumLaunchOptions } from './chromium.ts';
import { pageTabs, type Engine, type EngineProfile } from './Engine.ts';

function profileOf(context: BrowserContext): EngineProfile {
  // A page restored from the back/forward cache fires no load event: `commit` is when it is back.
  const tabOf = pageTabs<Page>('chromium', async (page) => void (await page.goBack({ waitUntil: 'commit' })));
  return {
    async openTab(url) {
      const page = await context.newPage();
      await page.goto(url);
      return tabOf(page);
    },
    listTabs: async () =>
      context
        .pages()
        .filter((p) => !p.isClosed())
        .map(tabOf),
    close: () => context.close(),
  };
}

export async function launchChromium(o: { args?: string[] } = {}): Promise<Engine> {
  const launch = chromiumLaunchOptions();
  // playwright turns the back/forward cache off unless told not to; a user's Chromium has it on.
  const browser = await chromium.launch({ ...launch, args: [...launch.args, ...(o.args ?? [])], ignoreDefaultArgs: ['--disable-back-forward-cache'] });
  return {
    name: 'chromium',
    version: browser.version(),
    newProfile: async () => profileOf(await browser.newContext()),
    async endSharedWorkers(urlPart) {
      const cdp = await browser.newBrowserCDPSession();
      try {
        const { targetInfos } = await cdp.send('Target.getTargets');
        const workers = targetInfos.filter((t) => t.type === 'shared_worker' && (t.url.includes(urlPart) || t.title.includes(urlPart)));
        for (const worker of workers) await cdp.send('Target.closeTarget', { targetId: worker.targetId });
        return workers.length;
      } finally {
        await cdp.detach();
      }
    },
    close: () => browser.close(),
  };
}
