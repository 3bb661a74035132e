import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { createProject, startTestApi, type TestApi } from '../support/api';
import { CHROMIUM_HINT, findChromium } from '../support/chromium';
import { type Receiver, type ReplyFunction, startReceiver } from '../support/receiver';

/**
 * The console in a real Chromium (Debian's, found by test/support/chromium.ts; `npm test`
 * installs it when it can), driven by playwright-core against the in-process server, which
 * serves the console built by `npm run build` from dist/console.
 */
const BUILT_CONSOLE = path.join(__dirname, '..', '..', 'dist', 'console', 'index.html');

/**
 * `npm run screenshots` (UPDATE_SCREENSHOTS=1) writes the screens into docs/screenshots, where
 * the README shows them. Other runs take the same screenshots into a temporary directory, so
 * a test run does not rewrite committed images with new timestamps and ids.
 */
export const SCREENSHOT_DIR = process.env.UPDATE_SCREENSHOTS === '1' ? path.join(__dirname, '..', '..', 'docs', 'screenshots') : path.join(os.tmpdir(), 'cms-console-screenshots');

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(BUILT_CONSOLE)) throw new Error('dist/console is missing: run `npm run build` first (npm test does)');
  const executablePath = findChromium();
  if (!executablePath) throw new Error(CHROMIUM_HINT);
  // Chromium's sandbox refuses to start as root (CI containers); elsewhere it stays on.
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return chromium.launch({ executablePath, args: isRoot ? ['--no-sandbox'] : [], timeout: 30_000 });
}

/** A fresh context (its own sessionStorage) that may use the clipboard on the console's origin. */
export async function newPage(browser: Browser, baseUrl: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 860 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  return { context, page };
}

/** Signs in through the form, as a person would, and waits for the projects. */
export async function signIn(page: Page, token: string, at = '/'): Promise<void> {
  await page.goto(at);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Messages the page logged as errors (a CSP violation is one), for asserting there were none. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return errors;
}

/** What every console test file starts: a server on a database of its own, a receiver, Chromium, and one project. */
export interface ConsoleRig {
  api: TestApi;
  receiver: Receiver;
  browser: Browser;
  /** The console's origin, e.g. http://127.0.0.1:43121 */
  baseUrl: string;
  projectId: string;
  close(): Promise<void>;
}

export async function startConsoleRig(options: { project: string; env?: Partial<NodeJS.ProcessEnv>; reply?: ReplyFunction }): Promise<ConsoleRig> {
  const [api, receiver, browser] = await Promise.all([
    startTestApi(options.env ?? {}),
    startReceiver(options.reply ?? (() => ({ status: 200, body: 'ok' }))),
    launchBrowser(),
  ]);
  const close = async () => {
    await browser.close();
    await api.close();
    await receiver.close();
  };
  try {
    const projectId = await createProject(api, options.project);
    return { api, receiver, browser, baseUrl: `http://127.0.0.1:${api.app.http!.port}`, projectId, close };
  } catch (error) {
    await close();
    throw error;
  }
}
