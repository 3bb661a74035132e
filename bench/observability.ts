import net from 'node:net';
import { type Benchmark, loadLine, option, rate, ratio, sized, summarize, table } from './support';
import { type Drain, drain, prepareBacklog } from './support-cms';
import { Receipts, startReceiver } from './support-http';
import { saturation } from './support-process';

/**
 * What observability costs the delivery path: one backlog (saves to 4 webhooks, so no
 * per-webhook cap bounds the worker) is copied and drained by one ROLE=worker process per
 * variant, the variants taking turns for several rounds so that a change in the machine's load
 * hits each alike. Deliveries/s from the first receipt to the last, median per variant, and its
 * ratio to the first variant (the baseline: everything off).
 *
 * A variant is the server's environment: add one to VARIANTS to measure another setting
 * (a log level, tracing) against the same backlog in the same run. With `metrics`, the worker
 * gets a METRICS_PORT and this process scrapes /metrics every `--scrape-ms` while it drains,
 * as Prometheus would (more often than its usual 15 s, to be pessimistic), and checks the
 * final count of attempts against the receipts.
 */

export interface Variant {
  label: string;
  env: Record<string, string>;
  /** Give the worker a metrics listener, and scrape it during the drain. */
  metrics?: boolean;
}

export const VARIANTS: Variant[] = [
  // The baseline: no metrics, and no line per successful attempt.
  { label: 'metrics off, LOG_LEVEL=warn', env: { LOG_LEVEL: 'warn' } },
  { label: 'metrics on, scraped, warn', env: { LOG_LEVEL: 'warn' }, metrics: true },
  { label: 'metrics off, LOG_LEVEL=info', env: { LOG_LEVEL: 'info' } },
  { label: 'metrics on, scraped, info', env: { LOG_LEVEL: 'info' }, metrics: true },
];

/** A port free right now (the worker binds it a moment later; on a busy machine that may race, then the run says so). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Scrapes until stopped. stop() scrapes once more, until `expected` attempts are counted or a
 * few seconds pass (an attempt is counted when the worker has the answer, a moment after the
 * receiver has the request), and returns how many scrapes answered and that last text.
 */
function scraper(port: number, everyMs: number): { stop(expected?: number): Promise<{ scrapes: number; last: string }> } {
  let scrapes = 0;
  let last = '';
  let stopped = false;
  const scrapeOnce = async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      if (res.ok) {
        last = await res.text();
        scrapes++;
      }
    } catch {
      // not listening yet: the worker is still starting
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await scrapeOnce();
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  let final: Promise<{ scrapes: number; last: string }> | null = null;
  return {
    stop: (expected = 0) =>
      (final ??= (async () => {
        stopped = true;
        await loop;
        const deadline = Date.now() + 5_000;
        await scrapeOnce();
        while (attemptsIn(last) < expected && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          await scrapeOnce();
        }
        return { scrapes, last };
      })()),
  };
}

function attemptsIn(text: string): number {
  let sum = 0;
  for (const match of text.matchAll(/^cms_webhooks_attempts_total\{[^}]*\} (\S+)$/gm)) sum += Number(match[1]);
  return sum;
}

export const observability: Benchmark = {
  name: 'observability',
  description: 'deliveries/s draining one backlog with metrics off and on (scraped), variants alternating; ratio to off',
  async run(server, log) {
    const webhooks = 4;
    const saves = sized('observability-saves', 5_000, 100);
    const rounds = sized('observability-rounds', 3, 1);
    const scrapeMs = option('scrape-ms', 1_000);
    const stallMs = option('stall-ms', 60_000);
    const expected = saves * webhooks;
    const receipts = new Receipts();
    const receiver = await startReceiver(receipts.record);
    try {
      log(`  backlog: ${saves} saves × ${webhooks} webhooks through ROLE=api (${loadLine()})`);
      const template = await prepareBacklog(server, 'observability', Array.from({ length: webhooks }, (_, i) => `${receiver.base}/hook/${i}`), saves);
      const runs = new Map<Variant, Drain[]>(VARIANTS.map((v) => [v, []]));
      for (let round = 1; round <= rounds; round++) {
        for (const variant of VARIANTS) {
          log(`  round ${round}/${rounds}: ${variant.label} (${loadLine()})`);
          const copy = await server.cloneDatabase(template.databaseUrl, 'observability_run');
          const env = { ...variant.env };
          let scraping: ReturnType<typeof scraper> | null = null;
          if (variant.metrics) {
            const port = await freePort();
            env.METRICS_PORT = String(port);
            scraping = scraper(port, scrapeMs);
          }
          try {
            const result = await drain(server, { databaseUrl: copy, token: template.token }, receipts, {
              workers: 1,
              expected,
              stallMs,
              env,
              // The last scrape before the worker stops: the metrics must count what was delivered.
              beforeStop: async () => {
                if (!scraping) return;
                const { scrapes, last } = await scraping.stop(expected);
                log(`    ${scrapes} scrape(s); cms_webhooks_attempts_total at the end: ${attemptsIn(last)} (deliveries: ${expected})`);
              },
            });
            runs.get(variant)!.push(result);
          } finally {
            await (scraping as ReturnType<typeof scraper> | null)?.stop();
          }
        }
      }
      const median = (v: Variant) => summarize(runs.get(v)!.map((d) => d.perSec)).median;
      const base = median(VARIANTS[0]);
      log('');
      log(table(['variant (1 worker, ' + expected + ' deliveries)', 'deliveries/s per round', 'median', `÷ ${VARIANTS[0].label}`], VARIANTS.map((v) => [
        v.label, runs.get(v)!.map((d) => rate(d.perSec)).join(' / '), rate(median(v)), ratio(median(v) / base),
      ])));
      for (const v of VARIANTS) log(`  ${v.label}, last round: ${saturation(runs.get(v)!.at(-1)!.cpu)}`);
    } finally {
      await receiver.close();
    }
  },
};
