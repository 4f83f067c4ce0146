import { type Browser, chromium } from 'playwright-core';

/** Debian's chromium unless CHROMIUM_PATH says otherwise (scripts/ensureChromium.mjs reads the same). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless system Chromium driven by playwright-core (no browser download). The background-networking
 * and component-update flags keep it from calling out of this machine's closed network.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
}
