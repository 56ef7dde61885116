/**
 * How every test and benchmark launches Chromium: the machine's own browser (CHROMIUM_PATH, then
 * Debian's /usr/bin/chromium), headless, with the flags that keep it off the network.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium';
}

export function chromiumLaunchOptions(): { executablePath: string; args: string[]; headless: true } {
  return { executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true };
}
