import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** How to get a browser, in one line: the browser tests print this when they find none. */
export const NO_BROWSER =
  'no Chromium or Chrome found for the browser tests: set CHROMIUM_PATH to one, or install one ' +
  '(Debian/Ubuntu as root: apt-get install -y --no-install-recommends chromium; macOS: brew install --cask chromium; ' +
  'or npx playwright install chromium)';

export interface BrowserLookup {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: NodeJS.Platform;
  readonly home: string;
  readonly exists: (path: string) => boolean;
  /** Where a Playwright-installed Chromium would be (playwright-core knows its own cache layout). */
  readonly playwrightChromium: () => string | undefined;
}

export type BrowserFound = { readonly path: string; readonly source: string };

function playwrightChromium(): string | undefined {
  try {
    return chromium.executablePath();
  } catch {
    return undefined;
  }
}

const SYSTEM_LOOKUP: BrowserLookup = {
  env: process.env,
  platform: process.platform,
  home: homedir(),
  exists: existsSync,
  playwrightChromium,
};

/** The places a Chromium or Chrome is usually installed, in the order they are tried after CHROMIUM_PATH. */
function candidates(lookup: BrowserLookup): BrowserFound[] {
  const found: BrowserFound[] = [];
  const add = (path: string | undefined, source: string) => {
    if (path) found.push({ path, source });
  };
  if (lookup.platform === 'darwin') {
    add('/Applications/Chromium.app/Contents/MacOS/Chromium', 'Chromium.app');
  } else if (lookup.platform === 'win32') {
    const programFiles = lookup.env.PROGRAMFILES ?? 'C:\\Program Files';
    add(join(programFiles, 'Chromium', 'Application', 'chrome.exe'), 'Chromium');
  } else {
    add('/usr/bin/chromium', "Debian's chromium");
    add('/usr/bin/chromium-browser', 'chromium-browser');
    add('/snap/bin/chromium', 'snap chromium');
  }
  add(lookup.playwrightChromium(), 'a Playwright-installed Chromium');
  if (lookup.platform === 'darwin') {
    add('/Applications/Google Chrome.app/Contents/MacOS/Google Chrome', 'Google Chrome');
    add(join(lookup.home, 'Applications/Google Chrome.app/Contents/MacOS/Google Chrome'), 'Google Chrome');
  } else if (lookup.platform === 'win32') {
    const programFiles = lookup.env.PROGRAMFILES ?? 'C:\\Program Files';
    add(join(programFiles, 'Google', 'Chrome', 'Application', 'chrome.exe'), 'Google Chrome');
  } else {
    add('/usr/bin/google-chrome', 'Google Chrome');
    add('/usr/bin/google-chrome-stable', 'Google Chrome');
  }
  return found;
}

/**
 * The browser the browser tests drive: CHROMIUM_PATH when set (and then only it), else the first of Debian's
 * Chromium, other system Chromiums, a Playwright-installed Chromium and Google Chrome that exists.
 */
export function findBrowser(lookup: BrowserLookup = SYSTEM_LOOKUP): BrowserFound | undefined {
  const chosen = lookup.env.CHROMIUM_PATH;
  if (chosen) return lookup.exists(chosen) ? { path: chosen, source: 'CHROMIUM_PATH' } : undefined;
  return candidates(lookup).find((c) => lookup.exists(c.path));
}

/** The browser, or an error whose message is one line saying how to get one (CHROMIUM_PATH named when it is wrong). */
export function requireBrowser(lookup: BrowserLookup = SYSTEM_LOOKUP): BrowserFound {
  const found = findBrowser(lookup);
  if (found) return found;
  const chosen = lookup.env.CHROMIUM_PATH;
  throw new Error(chosen ? `CHROMIUM_PATH=${chosen} does not exist; ${NO_BROWSER}` : NO_BROWSER);
}

/** Chromium's flags for a headless run on a machine whose network is closed (no background connections). */
export const HEADLESS_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
