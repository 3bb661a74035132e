import { ceilings, senderAt } from './ceiling';
import { type Benchmark, loadLine, option, rate, ratio, sized, table } from './support';
import { type Drain, drain, prepareBacklog } from './support-cms';
import { Receipts, startReceiver } from './support-http';
import { saturation } from './support-process';

/**
 * Scaling out: the same backlog (saves to 4 webhooks, so that per-webhook caps do not bound
 * one worker) drained by 1, 2 and 4 ROLE=worker processes on one PostgreSQL. The backlog is
 * made once through a ROLE=api server and copied for each run (CREATE DATABASE … TEMPLATE).
 * CPU is metered per process from the first receipt to the last: each worker, PostgreSQL (all
 * of its processes), this process (the receiver) and everything else on the machine, to say
 * what saturates.
 */

export const workers: Benchmark = {
  name: 'workers',
  description: 'deliveries/s of one backlog drained by 1, 2 and 4 worker processes on one PostgreSQL; CPU per process',
  async run(server, log) {
    const webhooks = option('workers-webhooks', 4);
    const saves = sized('workers-saves', 5_000, 100);
    const stallMs = option('stall-ms', 60_000);
    const counts = [1, 2, 4];
    const receipts = new Receipts();
    const receiver = await startReceiver(receipts.record);
    try {
      log(`  backlog: ${saves} saves × ${webhooks} webhooks through ROLE=api (${loadLine()})`);
      const template = await prepareBacklog(server, 'workers', Array.from({ length: webhooks }, (_, i) => `${receiver.base}/hook/${i}`), saves);
      const runs: Drain[] = [];
      for (const count of counts) {
        log(`  ${count} worker(s) (${loadLine()})`);
        const copy = await server.cloneDatabase(template.databaseUrl, `workers_${count}`);
        runs.push(await drain(server, { databaseUrl: copy, token: template.token }, receipts, { workers: count, expected: saves * webhooks, stallMs }));
      }
      const c = await ceilings();
      const sender = senderAt(c, 16);
      const cpu = (d: Drain, name: string) => (d.cpu.percent[name] ?? NaN).toFixed(0);
      log('');
      log(table(['workers', 'deliveries/s', '÷ 1 worker', `÷ sender at ${sender.concurrency}`, 'CPU % each worker', 'postgres', 'bench', 'machine busy', 'peak RSS per worker'], runs.map((d) => [
        String(d.workers), rate(d.perSec), ratio(d.perSec / runs[0].perSec), ratio(d.perSec / sender.perSec),
        Object.keys(d.cpu.percent).filter((k) => k.startsWith('worker')).map((k) => cpu(d, k)).join(' / '),
        cpu(d, 'postgres'), cpu(d, 'bench'), `${d.cpu.machine.toFixed(0)}%`,
        d.peakRss.map((b) => `${(b / 1024 / 1024).toFixed(0)}`).join(' / ') + ' MB',
      ])));
      log(`  (${saves * webhooks} deliveries per run; CPU in % of one core, 100% = one core; machine busy in % of all cores)`);
      for (const d of runs) log(`  ${d.workers} worker(s): ${saturation(d.cpu)}`);
    } finally {
      await receiver.close();
    }
  },
};
