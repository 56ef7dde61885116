/**
 * Measurement 6: JS heap per additional tab. Per contender, a first tab and then `extraTabs` more,
 * each its own top-level page (its own renderer process, so its own V8 heap); every page is garbage
 * collected and its used heap read over the Chrome DevTools Protocol (`HeapProfiler.collectGarbage`,
 * then `Runtime.getHeapUsage`). An empty bench page (no library loaded) is measured the same way,
 * so "library heap" is what a tab of the contender holds beyond an empty page. For tabtoken in
 * shared mode the worker's heap is read too: it is paid once, however many tabs there are.
 */
import { median } from '../lib/stats.mjs';
import { CONTENDERS, newRunContext, openTab, runId } from '../lib/tabs.mjs';

async function heapOf(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = await cdp.send('Runtime.getHeapUsage');
    return usedSize;
  } finally {
    await cdp.detach();
  }
}

/**
 * Used heap of the SharedWorkers of a namespace (named `tabtoken:v1:{namespace}:{origin}`), through the browser's own DevTools session
 * (worker targets have no playwright page; commands reach them with `Target.sendMessageToTarget`).
 */
async function sharedWorkerHeaps(browser, namespace) {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { targetInfos } = await cdp.send('Target.getTargets');
    const heaps = [];
    for (const target of targetInfos.filter((t) => t.type === 'shared_worker' && t.title.includes(`:${namespace}:`))) {
      const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: false });
      const answers = new Map();
      const onMessage = ({ sessionId: from, message }) => {
        if (from !== sessionId) return;
        const parsed = JSON.parse(message);
        if (parsed.id) answers.get(parsed.id)?.(parsed);
      };
      cdp.on('Target.receivedMessageFromTarget', onMessage);
      const call = (id, method) =>
        new Promise((resolve, reject) => {
          answers.set(id, resolve);
          cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) }).catch(reject);
          setTimeout(() => reject(new Error(`${method} on the worker timed out`)), 5000);
        });
      await call(1, 'HeapProfiler.collectGarbage');
      const usage = await call(2, 'Runtime.getHeapUsage');
      cdp.off('Target.receivedMessageFromTarget', onMessage);
      await cdp.send('Target.detachFromTarget', { sessionId });
      heaps.push(usage.result.usedSize);
    }
    return heaps;
  } finally {
    await cdp.detach();
  }
}

export async function measureMemory({ browser, server, kinds, extraTabs, log }) {
  const id = runId('memory-blank');
  const blankContext = await newRunContext(browser, server.base, id);
  let blankBytes;
  try {
    const blanks = [];
    for (let i = 0; i < 2; i++) blanks.push(await heapOf(await openTab(blankContext, server.base, { kind: 'blank', ns: id })));
    blankBytes = median(blanks);
  } finally {
    await blankContext.close();
  }
  const rows = [];
  for (const kind of kinds) {
    const run = runId(`memory-${kind}`);
    const context = await newRunContext(browser, server.base, run);
    try {
      const pages = [await openTab(context, server.base, { kind, ns: run, signIn: true })];
      for (let i = 0; i < extraTabs; i++) pages.push(await openTab(context, server.base, { kind, ns: run }));
      const heaps = [];
      for (const page of pages) heaps.push(await heapOf(page));
      const additional = median(heaps.slice(1));
      let workerBytes = null;
      if (kind === 'shared') {
        try {
          workerBytes = median(await sharedWorkerHeaps(browser, run));
        } catch (error) {
          log(`  (worker heap not readable: ${error.message})`);
        }
      }
      const row = {
        kind,
        tabs: pages.length,
        firstTabBytes: heaps[0],
        additionalTabBytes: additional,
        blankPageBytes: blankBytes,
        libraryBytesPerTab: additional - blankBytes,
        workerBytes,
      };
      rows.push(row);
      log(
        `  ${CONTENDERS[kind].label}: ${(additional / 1024).toFixed(0)} KB per additional tab (${((additional - blankBytes) / 1024).toFixed(0)} KB over an empty page)${workerBytes ? `, worker ${(workerBytes / 1024).toFixed(0)} KB once` : ''}`,
      );
    } finally {
      await context.close();
    }
  }
  return rows;
}
