import { type Benchmark, loadLine, option, rate, ratio, sized, table } from './support';
import { type Drain, drain, prepareBacklog } from './support-cms';
import { Receipts, startHangingReceiver, startReceiver } from './support-http';
import { saturation } from './support-process';

/**
 * Does one webhook whose endpoint never answers slow the others down? A backlog of saves to 3
 * healthy webhooks is drained by one ROLE=worker process, once as is and once with a fourth
 * webhook beside them whose endpoint accepts every request and never answers (each attempt
 * holds a slot until WEBHOOK_TIMEOUT_MS). The figure: the healthy webhooks' deliveries/s with
 * the bad one ÷ without it, same run, same backlog size. Target: ≥ 0.9.
 */

export const TARGET = 0.9;

export const isolation: Benchmark = {
  name: 'isolation',
  description: 'healthy webhooks\' deliveries/s beside one that never answers ÷ the same without it (one worker process)',
  async run(server, log) {
    const saves = sized('isolation-saves', 2_000, 200);
    const healthy = option('isolation-healthy', 3);
    const stallMs = option('stall-ms', 60_000);
    const receipts = new Receipts();
    const receiver = await startReceiver(receipts.record);
    const hanging = await startHangingReceiver();
    const urls = Array.from({ length: healthy }, (_, i) => `${receiver.base}/hook/${i}`);
    const expected = saves * healthy;
    try {
      const runs: Array<[string, Drain]> = [];
      for (const [label, webhookUrls] of [[`${healthy} healthy webhooks`, urls], [`${healthy} healthy + 1 that never answers`, [...urls, hanging.url]]] as const) {
        log(`  ${label}: ${saves} saves through ROLE=api, then one worker (${loadLine()})`);
        const backlog = await prepareBacklog(server, 'isolation', [...webhookUrls], saves);
        // Cut the held requests before the worker stops: its stop would otherwise wait for them.
        runs.push([label, await drain(server, backlog, receipts, { workers: 1, expected, stallMs, beforeStop: () => hanging.cut() })]);
      }
      const [[, without], [, withBad]] = runs;
      const value = withBad.perSec / without.perSec;
      log('');
      log(table(['configuration (1 worker)', 'healthy deliveries', 'healthy deliveries/s', 'drain time'], runs.map(([label, d]) =>
        [label, String(d.delivered), rate(d.perSec), `${d.seconds.toFixed(1)} s`])));
      log('');
      log(table(['measure (same run)', 'value'], [
        [`healthy deliveries/s with the bad webhook ÷ without (target ≥ ${TARGET})`, `${ratio(value)} (${value >= TARGET ? 'met' : 'not met'})`],
        ['requests the never-answering endpoint received meanwhile', String(hanging.arrived())],
      ]));
      for (const [label, d] of runs) log(`  ${label}: ${saturation(d.cpu)}`);
    } finally {
      await hanging.close();
      await receiver.close();
    }
  },
};
