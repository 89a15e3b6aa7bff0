import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium), or CHROMIUM_PATH. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Browser tests need a Chromium binary. CI installs one and must run them; on a developer's
 * machine without one they are skipped with a note rather than failing the whole run.
 */
export const browserAvailable = existsSync(chromiumPath);
if (!browserAvailable) {
  if (process.env.CI)
    throw new Error(`CI must run the browser tests, but there is no Chromium at ${chromiumPath}`);
  console.warn(
    `No Chromium at ${chromiumPath}: browser tests are skipped (apt-get install chromium to run them).`,
  );
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    // Flags for a root sandbox with no network beyond loopback: without them Chromium keeps trying to reach Google.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
