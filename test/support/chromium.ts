import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/**
 * The browser tests drive a system Chromium with playwright-core: Playwright's own browser
 * download cannot reach its host from every machine, while Debian's `chromium` package can be
 * installed anywhere apt works. CHROMIUM_PATH points at another binary.
 */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome-stable', '/usr/bin/google-chrome'];

export const CHROMIUM_HINT =
  'No Chromium found: install one (Debian/Ubuntu: sudo apt-get install -y chromium) or set CHROMIUM_PATH to its binary, then run the tests again.';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export function findChromium(): string | null {
  const given = process.env.CHROMIUM_PATH?.trim();
  if (given) return isExecutable(given) ? given : null;
  return CANDIDATES.find(isExecutable) ?? null;
}

function hasAptGet(): boolean {
  return spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
}

/**
 * Finds a Chromium, or installs Debian's package when this process may (root, apt-get, no
 * CHROMIUM_PATH naming a missing file). Returns the binary, or null with the hint printed.
 */
export function ensureChromium(log: (line: string) => void = console.log): string | null {
  const found = findChromium();
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (process.env.CHROMIUM_PATH?.trim() || !isRoot || !hasAptGet()) {
    log(CHROMIUM_HINT);
    return null;
  }
  log('No Chromium found: installing Debian\'s chromium package for the browser tests (apt-get, once)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', 'chromium']]) {
    const result = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (result.status !== 0) {
      log(`apt-get ${args.join(' ')} failed (exit ${result.status}). ${CHROMIUM_HINT}`);
      return null;
    }
  }
  const installed = findChromium();
  if (!installed) log(CHROMIUM_HINT);
  return installed;
}
