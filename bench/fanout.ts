import { ceilings, senderAt } from './ceiling';
import { type Benchmark, loadLine, ms, option, rate, ratio, runPool, sized, table, waitFor } from './support';
import { saveDocument, setupProject, startCms } from './support-cms';
import { Receipts, startReceiver } from './support-http';
import { cpuMeter, cpuSources, saturation } from './support-process';

/**
 * 300 saves fanned out to 20 webhooks (each its own receiver path) on the server as operators
 * run it (its own process, ROLE=all, default settings): 6,000 deliveries. The saves are made
 * by 16 concurrent GraphQL clients; deliveries/s counts from the first save to the last
 * receipt. Target: ≥ 2,000/s. Ceilings from the same run: the project's sender at 16 in
 * flight and the wire, no database (20 webhooks × the per-webhook cap exceed
 * WEBHOOK_CONCURRENCY, so the worker-wide cap is the concurrency here).
 */

export const TARGET_PER_SEC = 2_000;

export const fanout: Benchmark = {
  name: 'fanout',
  description: 'deliveries/s of 300 saves fanned out to 20 webhooks (server process, ROLE=all) vs the sender ceiling',
  async run(server, log) {
    const saves = sized('fanout-saves', 300, 100);
    const webhooks = option('fanout-webhooks', 20);
    const stallMs = option('stall-ms', 60_000);
    const receipts = new Receipts();
    const receiver = await startReceiver(receipts.record);
    const cms = await startCms(await server.createDatabase('fanout'), 'all');
    const paths = Array.from({ length: webhooks }, (_, i) => `/hook/${i}`);
    try {
      const fixture = await setupProject(cms.client, 'Bench fan-out', paths.map((p) => `${receiver.base}${p}`));
      // Warm-up: one save to every webhook (the worker's sockets to each path), not measured.
      const warm = await saveDocument(cms.client, fixture, 'Warm-up');
      await Promise.all(paths.map((p) => receipts.arrival(p, warm, stallMs)));
      receipts.reset();

      log(`  ${saves} saves by 16 clients, ${webhooks} webhooks each (${loadLine()})`);
      const meter = cpuMeter(cpuSources({ server: cms.server.pid }, await server.postmasterPid()));
      const started = performance.now();
      await runPool(saves, 16, async (i) => void (await saveDocument(cms.client, fixture, `Fan-out ${i}`)));
      const savedAt = performance.now();
      const expected = saves * webhooks;
      const done = await Promise.race([waitFor(() => receipts.unique >= expected, () => receipts.total, stallMs, 10), cms.server.crashed]);
      const cpu = meter.stop();
      if (!done) throw new Error(`fan-out: ${receipts.unique} of ${expected} deliveries arrived, then nothing for ${stallMs} ms`);
      const perSec = expected / ((receipts.lastAt - started) / 1000);
      const c = await ceilings();
      const sender = senderAt(c, 16);
      log('');
      log(table(['fan-out', 'value'], [
        ['deliveries', `${expected} (${saves} saves × ${webhooks} webhooks), ${receipts.duplicates} duplicate(s)`],
        ['saves took', `${((savedAt - started) / 1000).toFixed(2)} s (${rate(saves / ((savedAt - started) / 1000))})`],
        ['first save → last receipt', `${((receipts.lastAt - started) / 1000).toFixed(2)} s`],
        ['first save → first receipt', ms(receipts.firstAt - started)],
        [`deliveries/s, first save → last receipt (target ≥ ${TARGET_PER_SEC.toLocaleString('en-US')})`, `${rate(perSec)} (${perSec >= TARGET_PER_SEC ? 'met' : 'not met'})`],
        ['deliveries/s, first receipt → last', rate((expected - 1) / ((receipts.lastAt - receipts.firstAt) / 1000))],
        [`ceiling: ${sender.label}, no database`, rate(sender.perSec)],
        [`deliveries/s ÷ ${sender.label}`, ratio(perSec / sender.perSec)],
        ['deliveries/s ÷ the wire', ratio(perSec / c.wire.perSec)],
      ]));
      log(`  ${saturation(cpu)}`);
    } finally {
      await cms.stop();
      await receiver.close();
    }
  },
};
