import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findBrowser, NO_BROWSER } from './browser.ts';

/**
 * `npm test`'s set-up for the browser tests: uses a Chromium or Chrome that is there, or, as root on Debian,
 * installs Debian's chromium. Anywhere else it only says how to get one; the browser tests then fail with that line
 * (they are never skipped). It never fails the run itself: the tests report what is missing.
 */
function debianRoot(): boolean {
  return (
    process.platform === 'linux' &&
    process.getuid?.() === 0 &&
    existsSync('/etc/debian_version') &&
    existsSync('/usr/bin/apt-get')
  );
}

function aptGet(args: string[]): boolean {
  const run = spawnSync('apt-get', args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return run.status === 0;
}

function main(): void {
  const found = findBrowser();
  if (found) {
    console.log(`browser tests: ${found.path} (${found.source})`);
    return;
  }
  if (process.env.CHROMIUM_PATH || !debianRoot()) {
    console.warn(`browser tests: ${NO_BROWSER}`);
    return;
  }
  console.log("browser tests: installing Debian's chromium (apt-get install -y --no-install-recommends chromium)");
  const installed =
    aptGet(['-qq', 'update']) && aptGet(['-qq', 'install', '-y', '--no-install-recommends', 'chromium']);
  const after = findBrowser();
  if (installed && after) console.log(`browser tests: ${after.path} (${after.source})`);
  else console.warn(`browser tests: apt-get could not install chromium; ${NO_BROWSER}`);
}

main();
