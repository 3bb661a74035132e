import { type Benchmark, loadLine, ms, option, ratio, sized, summarize, table } from './support';
import { type Fixture, saveDocument, setupProject, startCms } from './support-cms';
import { startReceiver } from './support-http';
import { cpuMeter, cpuSources, saturation } from './support-process';

/**
 * What a save costs its client when 20 webhooks listen for it, against a save that no webhook
 * listens for: the mutation's round trip through GraphQL on a ROLE=api server (its own
 * process; no worker, so nothing is sent and no delivery competes for the CPU). Saves go one
 * at a time, alternating between a project with 20 matching webhooks and one with none, so a
 * change in the machine's load hits both alike. Target: ≤ 1.15× at the median.
 */

export const TARGET = 1.15;

export const saveCost: Benchmark = {
  name: 'save-cost',
  description: 'mutation latency of a save with 20 matching webhooks ÷ with none (server process, ROLE=api)',
  async run(server, log) {
    const pairs = sized('cost-saves', 500, 100);
    const webhooks = option('fanout-webhooks', 20);
    const receiver = await startReceiver(() => undefined);
    const cms = await startCms(await server.createDatabase('save_cost'), 'api');
    try {
      const withHooks = await setupProject(cms.client, 'Bench with webhooks', Array.from({ length: webhooks }, (_, i) => `${receiver.base}/hook/${i}`));
      const without = await setupProject(cms.client, 'Bench without webhooks', []);
      const time = async (fixture: Fixture, title: string) => {
        const started = performance.now();
        await saveDocument(cms.client, fixture, title);
        return performance.now() - started;
      };
      for (let i = 0; i < 20; i++) await Promise.all([time(withHooks, 'Warm-up'), time(without, 'Warm-up')]);
      log(`  ${pairs} saves each, one at a time, alternating (${loadLine()})`);
      const a: number[] = [];
      const b: number[] = [];
      const meter = cpuMeter(cpuSources({ server: cms.server.pid }, await server.postmasterPid()));
      for (let i = 0; i < pairs; i++) {
        // Alternate which goes first, so neither always follows the other.
        if (i % 2 === 0) (a.push(await time(withHooks, `Cost ${i}`)), b.push(await time(without, `Cost ${i}`)));
        else (b.push(await time(without, `Cost ${i}`)), a.push(await time(withHooks, `Cost ${i}`)));
      }
      const cpu = meter.stop();
      const sa = summarize(a);
      const sb = summarize(b);
      log('');
      log(table(['createDocument round trip (ROLE=api)', 'n', 'p50', 'p95', 'p99'], [
        [`${webhooks} matching webhooks`, String(sa.n), ms(sa.median), ms(sa.p95), ms(sa.p99)],
        ['no webhook (baseline)', String(sb.n), ms(sb.median), ms(sb.p95), ms(sb.p99)],
      ]));
      log('');
      log(table(['ratio (same run)', 'value'], [
        [`p50 with ${webhooks} webhooks ÷ without (target ≤ ${TARGET})`, `${ratio(sa.median / sb.median)} (${sa.median / sb.median <= TARGET ? 'met' : 'not met'})`],
        [`p95 with ${webhooks} webhooks ÷ without`, ratio(sa.p95 / sb.p95)],
      ]));
      log(`  ${saturation(cpu)}`);
    } finally {
      await cms.stop();
      await receiver.close();
    }
  },
};
