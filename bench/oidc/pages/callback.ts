/**
 * The redirect page registered at the provider: hands the authorization answer to the contender
 * the tab signed in with, then goes back to the tab page it came from.
 */
import { createContender, kindOf, loadConfig, RETURN_KEY } from './contenders.ts';

async function main(): Promise<void> {
  const back = sessionStorage.getItem(RETURN_KEY);
  if (!back) throw new Error('no sign-in was started in this tab');
  const returnUrl = new URL(back, location.href);
  if (returnUrl.origin !== location.origin) throw new Error('the return URL is not on this origin');
  const kind = kindOf(returnUrl.searchParams.get('c'));
  const contender = await createContender(kind, { ...(await loadConfig()), namespace: returnUrl.searchParams.get('ns') ?? 'bench' });
  await contender.handleRedirect(location.href);
  sessionStorage.removeItem(RETURN_KEY);
  contender.close();
  location.replace(returnUrl.href);
}

main().catch((error: unknown) => {
  document.body.textContent = `redirect failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
  Object.assign(globalThis, { benchOidc: { error: document.body.textContent } });
});
