import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';
import { CHROMIUM_HINT, findChromium } from '../test/support/chromium';
import { WebhookTrigger } from '../src/webhooks/triggers';
import { type Benchmark, type DatabaseServer, loadLine, ms, option, startBenchApp, summarize, table } from './support';
import { startReceiver } from './support-http';

/**
 * The console as a person meets it, in Debian's Chromium on loopback: how much JavaScript
 * the first load fetches (gzip), how long from navigation to the webhooks table, and how long
 * a logged call takes to appear in the open activity log. Times are taken in the page by a
 * MutationObserver (installed before the page's own scripts), not by polling from outside.
 */

// Functions handed to the page run in the browser; these are its globals there.
declare const window: any, document: any, sessionStorage: any, MutationObserver: any;

const DIST = path.join(__dirname, '..', 'console');
const TOKEN_KEY = 'cms-webhooks-console.token';

function gzipSize(file: string): number {
  return zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
}

/** Scripts and styles index.html loads first; every other chunk loads when a screen needs it. */
function assetSizes(): { initialJs: number; initialCss: number; allJs: number } {
  const html = fs.readFileSync(path.join(DIST, 'index.html'), 'utf8');
  const initial = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]);
  const size = (files: string[], ext: string) => files.filter((f) => f.endsWith(ext)).reduce((sum, f) => sum + gzipSize(path.join(DIST, f)), 0);
  const all = fs.readdirSync(path.join(DIST, 'assets')).map((f) => `assets/${f}`);
  return { initialJs: size(initial, '.js'), initialCss: size(initial, '.css'), allJs: size(all, '.js') };
}

/** Runs in the page before its scripts: records when the first element matching `selector` appears. */
function watchFor(selector: string) {
  const found: Record<string, number> = window.__seen ?? {};
  window.__seen = found;
  const check = () => {
    document.querySelectorAll(selector).forEach((el: any) => {
      const key: string = el.dataset.callId ?? selector;
      if (!(key in found)) found[key] = performance.timeOrigin + performance.now();
    });
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true });
}

async function run(server: DatabaseServer, log: (line: string) => void): Promise<void> {
  const loads = option('console-loads', 20);
  const calls = option('console-calls', 20);
  if (!fs.existsSync(path.join(DIST, 'index.html'))) throw new Error('dist/console is missing: npm run build');
  const executablePath = findChromium();
  if (!executablePath) throw new Error(CHROMIUM_HINT);
  const sizes = assetSizes();
  log(`console: ${loads} loads of the webhooks screen, ${calls} calls into the open log (${loadLine()})`);

  const receiver = await startReceiver(() => undefined);
  const bench = await startBenchApp(await server.createDatabase('console'), { WEBHOOK_POLL_INTERVAL_MS: '1000' });
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const browser = await chromium.launch({ executablePath, args: isRoot ? ['--no-sandbox'] : [] });
  try {
    const { services } = bench.app;
    const project = await services.projects.create(bench.actor, 'Bench console');
    const blueprint = await services.blueprints.create(bench.actor, project.id, { name: 'Post' });
    for (let i = 0; i < 10; i++) {
      await services.webhooks.create(bench.actor, project.id, { name: `Receiver ${i}`, url: receiver.url, triggers: [WebhookTrigger.DOCUMENT_CREATE] });
    }
    const base = `http://127.0.0.1:${bench.app.http!.port}`;
    const context = async () => {
      const ctx = await browser.newContext({ baseURL: base });
      await ctx.addInitScript(([key, token]) => sessionStorage.setItem(key, token), [TOKEN_KEY, bench.token]);
      return ctx;
    };

    // Load → webhooks table: a fresh context each time (nothing cached), then reloads of a warm one.
    const cold: number[] = [];
    for (let i = 0; i < loads; i++) {
      const ctx = await context();
      await ctx.addInitScript(watchFor, 'table[aria-label="Webhooks"] tbody tr');
      const page = await ctx.newPage();
      await page.goto(`/projects/${project.id}/webhooks`);
      await page.waitForSelector('table[aria-label="Webhooks"] tbody tr', { timeout: 30_000 });
      cold.push(await page.evaluate(() => Object.values((window.__seen as Record<string, number>))[0] - performance.timeOrigin));
      await ctx.close();
    }
    const warm: number[] = [];
    const warmCtx = await context();
    await warmCtx.addInitScript(watchFor, 'table[aria-label="Webhooks"] tbody tr');
    const warmPage = await warmCtx.newPage();
    await warmPage.goto(`/projects/${project.id}/webhooks`);
    for (let i = 0; i < loads; i++) {
      await warmPage.reload();
      await warmPage.waitForSelector('table[aria-label="Webhooks"] tbody tr', { timeout: 30_000 });
      warm.push(await warmPage.evaluate(() => Object.values((window.__seen as Record<string, number>))[0] - performance.timeOrigin));
    }
    await warmCtx.close();

    // A save → its calls in the open log. Timed from just before the save, and from the log row's own created_at.
    const ctx = await context();
    await ctx.addInitScript(watchFor, '[data-call-id]');
    const page = await ctx.newPage();
    await page.goto(`/projects/${project.id}/activity`);
    await page.waitForSelector('[data-state="live"]');
    const deadline = Date.now() + 10_000;
    while (services.webhookCallPubSub.subscriberCount() < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const fromSave: number[] = [];
    const fromLogged: number[] = [];
    for (let i = 0; i < calls; i++) {
      const before = Date.now();
      const document = await services.documents.create(bench.actor, project.id, { blueprintId: blueprint.id, title: `Bench ${i}` });
      // Ten webhooks: ten calls of this document. The first to show is what a reader sees first.
      const rows: Array<{ id: string; created_at: Date }> = [];
      while (rows.length === 0 && Date.now() < before + 20_000) {
        rows.push(...(await bench.app.dataSource.query(`SELECT id, created_at FROM webhook_call WHERE request_body LIKE $1 ORDER BY created_at LIMIT 1`, [`%${document.id}%`])));
        if (rows.length === 0) await new Promise((r) => setTimeout(r, 5));
      }
      if (rows.length === 0) throw new Error(`no call was logged for document ${i}`);
      const handle = await page.waitForSelector(`[data-call-id="${rows[0].id}"]`, { timeout: 20_000 });
      await handle.dispose();
      const seenAt = await page.evaluate((id) => (window.__seen as Record<string, number>)[id], rows[0].id);
      fromSave.push(seenAt - before);
      fromLogged.push(seenAt - rows[0].created_at.getTime());
    }
    await ctx.close();

    const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
    const line = (what: string, values: number[]) => {
      const s = summarize(values);
      return [what, ms(s.median), ms(s.p95), ms(s.max)];
    };
    log('');
    log(table(['asset (gzip -9)', 'size'], [
      ['initial JavaScript (what index.html loads)', kb(sizes.initialJs)],
      ['initial CSS', kb(sizes.initialCss)],
      ['all JavaScript (charts and details load when first shown)', kb(sizes.allJs)],
    ]));
    log('');
    log(table(['measure (loopback)', 'median', 'p95', 'max'], [
      line('navigation → webhooks table, new browser context', cold),
      line('navigation → webhooks table, reload (assets cached)', warm),
      line('createDocument sent → first of its calls in the open log', fromSave),
      line('call logged (created_at) → its row in the open log', fromLogged),
    ]));
    log(`  target: initial JavaScript ≤ 200 KB gzip: ${sizes.initialJs <= 200 * 1024 ? 'met' : 'NOT met'} (${kb(sizes.initialJs)})`);
  } finally {
    await browser.close();
    await bench.app.stop();
    await receiver.close();
  }
}

export const consoleTiming: Benchmark = {
  name: 'console',
  description: 'the console in Chromium: initial JavaScript (gzip), load → webhooks table, logged call → row in the open log',
  run,
};
