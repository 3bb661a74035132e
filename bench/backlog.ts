import { loadConfig } from '../src/config/config';
import { isValidCidr } from '../src/delivery/ssrf';
import { ceilings } from './ceiling';
import { type Benchmark, type DatabaseServer, loadLine, once, option, rate, ratio, sized, table } from './support';
import { type Drain, drain, prepareBacklog } from './support-cms';
import { Receipts, startReceiver } from './support-http';
import { saturation } from './support-process';

/**
 * A backlog drained to one webhook: 20,000 saves made through a ROLE=api server (no worker
 * runs, so nothing is sent), then one ROLE=worker process is started and the receiver counts.
 * deliveries/s is measured from the first receipt to the last (the worker's start-up is not
 * in it). The ceiling is the project's own sender, no database, at the default per-webhook cap
 * (only one webhook: the cap is the concurrency). Target: ≥ 0.6 × that ceiling.
 * Memory: the worker's peak RSS (VmHWM) at the end; the full run also drains 100,000
 * (target ≤ 300 MB).
 */

export const TARGET_VS_SENDER = 0.6;
export const TARGET_RSS_MB = 300;
const MB = 1024 * 1024;

/** The default WEBHOOK_PER_ENDPOINT_CONCURRENCY, read the way the server reads it. */
export function defaultCap(): number {
  return loadConfig({}, isValidCidr).webhook.perWebhookConcurrency;
}

/** A backlog of `events` saves to one webhook, drained by `workers` worker processes. */
export async function drainOne(server: DatabaseServer, events: number, workers = 1): Promise<Drain & { createdPerSec: number }> {
  const receipts = new Receipts();
  const receiver = await startReceiver(receipts.record);
  try {
    const backlog = await prepareBacklog(server, 'backlog', [receiver.url], events);
    const result = await drain(server, backlog, receipts, { workers, expected: events, stallMs: option('stall-ms', 60_000) });
    return { ...result, createdPerSec: backlog.createdPerSec };
  } finally {
    await receiver.close();
  }
}

export const measureBacklog = once(async (server: DatabaseServer, log: (line: string) => void) => {
  const events = sized('backlog-events', 20_000, 1_000);
  log(`  backlog: ${events} saves through ROLE=api, then one ROLE=worker drains them (${loadLine()})`);
  return { events, drained: await drainOne(server, events), load: loadLine() };
});

export const backlog: Benchmark = {
  name: 'backlog',
  description: 'deliveries/s draining a backlog of 20,000 to one webhook (one worker process) vs the sender ceiling; peak RSS',
  async run(server, log) {
    const cap = defaultCap();
    const { events, drained } = await measureBacklog(server, log);
    const rssEvents = sized('rss-events', 100_000, 0);
    let big: Awaited<ReturnType<typeof drainOne>> | null = null;
    if (rssEvents > 0) {
      log(`  memory: ${rssEvents} saves, then one worker drains them (${loadLine()})`);
      big = await drainOne(server, rssEvents);
    }
    const c = await ceilings(cap);
    const sender = c.sender.get(cap)!;
    const rows = [[`${events} events`, drained] as const, ...(big ? [[`${rssEvents} events`, big] as const] : [])];
    log('');
    log(table(['backlog to one webhook, 1 worker', 'saves/s (set-up)', 'deliveries/s', 'drain time', 'peak RSS of the worker', 'duplicates'], rows.map(([label, d]) =>
      [label, rate(d.createdPerSec), rate(d.perSec), `${d.seconds.toFixed(1)} s`, `${(d.peakRss[0] / MB).toFixed(0)} MB`, String(d.duplicates)])));
    log('');
    log(table(['measure (same run)', 'value'], [
      [`ceiling: ${sender.label} (default per-webhook cap ${cap})`, rate(sender.perSec)],
      [`deliveries/s ÷ the sender at ${cap} (target ≥ ${TARGET_VS_SENDER})`, `${ratio(drained.perSec / sender.perSec)} (${drained.perSec / sender.perSec >= TARGET_VS_SENDER ? 'met' : 'not met'})`],
      ['deliveries/s ÷ the wire', ratio(drained.perSec / c.wire.perSec)],
      ...(big ? [[`peak RSS draining ${rssEvents} (target ≤ ${TARGET_RSS_MB} MB)`, `${(big.peakRss[0] / MB).toFixed(0)} MB (${big.peakRss[0] / MB <= TARGET_RSS_MB ? 'met' : 'not met'})`]] : []),
    ]));
    log(`  ${events} events: ${saturation(drained.cpu)}`);
    if (big) log(`  ${rssEvents} events: ${saturation(big.cpu)}`);
  },
};
