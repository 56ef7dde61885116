/**
 * One tab of the OpenID Connect benchmark. Query: `c` the contender, `ns` the run, `read` the read
 * interval in ms, `signin=1` to start a sign-in first (the runner fills in the provider's pages).
 * `window.benchOidc` exposes what the tab saw to the runner (playwright).
 */
import { createContender, kindOf, loadConfig, RETURN_KEY } from './contenders.ts';
import type { OidcContender } from './OidcContender.ts';

/** What continuous reading saw. */
export interface OidcReadLog {
  reads: number;
  /** Reads that answered no token (no valid sign-in in this tab at that moment). */
  nulls: number;
  errors: number;
  /** Every distinct token read, with the time it was first read (ms since the epoch). */
  tokens: Record<string, number>;
  /** The last token read, or null. */
  last: string | null;
}

export interface OidcBenchPage {
  firstTokenAt: number | null;
  error: string | null;
  log: OidcReadLog;
  /** Stops reading; returns the log and whether the tab is signed in now. */
  finish(): Promise<{ log: OidcReadLog; signedIn: boolean }>;
}

const now = (): number => performance.timeOrigin + performance.now();

async function main(page: OidcBenchPage): Promise<void> {
  const query = new URLSearchParams(location.search);
  const kind = kindOf(query.get('c'));
  const namespace = query.get('ns') ?? 'bench';
  const readEveryMs = Number(query.get('read') ?? '1000');
  const contender: OidcContender = await createContender(kind, { ...(await loadConfig()), namespace });
  await contender.ready;

  if (query.get('signin') === '1' && !(await contender.signedIn())) {
    const back = new URL(location.href);
    back.searchParams.delete('signin');
    sessionStorage.setItem(RETURN_KEY, back.href);
    await contender.signIn();
    return;
  }

  let reader: ReturnType<typeof setInterval> | undefined;
  const readOnce = async (): Promise<void> => {
    try {
      const token = await contender.read();
      page.log.reads++;
      if (token === null) {
        page.log.nulls++;
      } else {
        page.log.tokens[token] ??= now();
        page.firstTokenAt ??= now();
      }
      page.log.last = token;
    } catch {
      page.log.errors++;
    }
  };
  page.finish = async () => {
    clearInterval(reader);
    const signedIn = await contender.signedIn().catch(() => false);
    contender.close();
    return { log: page.log, signedIn };
  };
  await readOnce();
  reader = setInterval(() => void readOnce(), readEveryMs);
}

const page: OidcBenchPage = {
  firstTokenAt: null,
  error: null,
  log: { reads: 0, nulls: 0, errors: 0, tokens: {}, last: null },
  finish: async () => ({ log: page.log, signedIn: false }),
};
Object.assign(globalThis, { benchOidc: page });
main(page).catch((error: unknown) => {
  page.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
});
