import { describe, expect, it } from 'vitest';
import { type BrowserLookup, findBrowser, NO_BROWSER, requireBrowser } from '../support/browser.ts';

const PLAYWRIGHT = '/home/dev/.cache/ms-playwright/chromium-1200/chrome-linux/chrome';

function lookup(installed: string[], overrides: Partial<BrowserLookup> = {}): BrowserLookup {
  return {
    env: {},
    platform: 'linux',
    home: '/home/dev',
    exists: (path) => installed.includes(path),
    playwrightChromium: () => PLAYWRIGHT,
    ...overrides,
  };
}

describe('the browser the browser tests drive', () => {
  it("takes CHROMIUM_PATH first, then Debian's chromium, then a Playwright-installed one, then Google Chrome", () => {
    const all = ['/opt/my/chrome', '/usr/bin/chromium', PLAYWRIGHT, '/usr/bin/google-chrome'];
    expect(findBrowser(lookup(all, { env: { CHROMIUM_PATH: '/opt/my/chrome' } }))?.path).toBe('/opt/my/chrome');
    expect(findBrowser(lookup(all))?.path).toBe('/usr/bin/chromium');
    expect(findBrowser(lookup([PLAYWRIGHT, '/usr/bin/google-chrome']))?.source).toBe('a Playwright-installed Chromium');
    expect(findBrowser(lookup(['/usr/bin/google-chrome']))?.source).toBe('Google Chrome');
  });

  it('finds Google Chrome on macOS', () => {
    const chrome = '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome';
    const found = findBrowser(lookup([chrome], { platform: 'darwin', playwrightChromium: () => undefined }));
    expect(found?.path).toBe(chrome);
  });

  it('says in one line how to get a browser when none is found, and never falls back past a wrong CHROMIUM_PATH', () => {
    expect(() => requireBrowser(lookup([]))).toThrow(NO_BROWSER);
    expect(NO_BROWSER).not.toContain('\n');
    expect(NO_BROWSER).toContain('apt-get install -y --no-install-recommends chromium');
    const wrong = lookup(['/usr/bin/chromium'], { env: { CHROMIUM_PATH: '/nowhere/chrome' } });
    expect(findBrowser(wrong)).toBeUndefined();
    expect(() => requireBrowser(wrong)).toThrow(/^CHROMIUM_PATH=\/nowhere\/chrome does not exist; no Chromium/);
  });
});
