#!/usr/bin/env node
/**
 * `npm test`'s pretest step: the browser tests drive a system Chromium through playwright-core
 * (test/browser/), which never downloads a browser of its own. This makes `npm install && npm test`
 * work on a fresh Debian machine: when no Chromium is found and we are root with apt-get, Debian's
 * `chromium` package is installed; otherwise we stop with what to do instead of letting the browser
 * test fail later with a launch error.
 *
 * CHROMIUM_PATH overrides the default `/usr/bin/chromium` (the test reads the same variable).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

if (existsSync(chromiumPath)) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (process.env.CHROMIUM_PATH === undefined && isRoot && hasCommand('apt-get')) {
  process.stderr.write(
    'pretest: /usr/bin/chromium not found; installing Debian chromium (apt-get) for the browser tests\n',
  );
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (err) {
    process.stderr.write(`pretest: apt-get install chromium failed (${err.message}).\n`);
  }
  if (existsSync(chromiumPath)) process.exit(0);
}

process.stderr.write(
  `pretest: no Chromium at ${chromiumPath}; the browser tests (test/browser/) need one.\n` +
    '  Debian/Ubuntu: sudo apt-get install -y chromium\n' +
    '  elsewhere: set CHROMIUM_PATH to a Chromium or Chrome executable, e.g.\n' +
    '    CHROMIUM_PATH="/Applications/Google Chrome.app/Contents/MacOS/Google Chrome" npm test\n',
);
process.exit(1);
