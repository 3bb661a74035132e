import { ceilings, senderAt } from './ceiling';
import { type Benchmark, type DatabaseServer, loadLine, ms, once, option, ratio, sized, summarize, type Summary, table, waitFor } from './support';
import { saveDocument, setupProject, startCms } from './support-cms';
import { openLoop, Receipts, startReceiver } from './support-http';
import { type CpuReport, cpuMeter, cpuSources, saturation } from './support-process';

/**
 * Issue 11's headline: saves at a steady 200/s for 15 s against the server as operators run it
 * (its own process, ROLE=all, default settings), one DOCUMENT_CREATE webhook to a loopback
 * receiver. Saves are made through GraphQL over keep-alive connections on a schedule (open
 * loop: a slow answer does not delay the next save). Commit → receipt is the receiver's
 * arrival time minus the moment the mutation's answer was in, both on this process's clock,
 * matched by metadata.document_id. It can be slightly negative: the delivery may win the race
 * against the mutation's own answer. Targets: p95 ≤ 25 ms, p99 ≤ 50 ms.
 *
 * Baselines from the same run: the same path one save at a time (each awaited at the
 * receiver), and the project's sender alone (no database), the floor of any delivery.
 */

export interface SteadyResult {
  perSecond: number;
  seconds: number;
  saves: number;
  latency: Summary;
  /** The mutation's own round trip, sent → answer in. */
  mutation: Summary;
  oneAtATime: Summary;
  maxLateMs: number;
  missing: number;
  duplicates: number;
  cpu: CpuReport;
  load: string;
}

export const TARGET_P95_MS = 25;
export const TARGET_P99_MS = 50;

export const measureSteady = once(async (server: DatabaseServer, log: (line: string) => void): Promise<SteadyResult> => {
  const perSecond = option('steady-rate', 200);
  const seconds = sized('steady-seconds', 15, 3);
  const single = sized('one-at-a-time', 200, 20);
  const stallMs = option('stall-ms', 60_000);
  const receipts = new Receipts();
  const receiver = await startReceiver(receipts.record);
  const path = new URL(receiver.url).pathname;
  const cms = await startCms(await server.createDatabase('steady'), 'all');
  try {
    const fixture = await setupProject(cms.client, 'Bench steady', [receiver.url]);
    // Warm-up (JIT, pooled connections, the worker's keep-alive socket), not measured.
    for (let i = 0; i < 20; i++) await receipts.arrival(path, await saveDocument(cms.client, fixture, `Warm-up ${i}`), stallMs);
    receipts.reset();

    log(`  steady: ${perSecond} saves/s for ${seconds} s (${loadLine()})`);
    const committed = new Map<string, number>();
    const mutation: number[] = [];
    const meter = cpuMeter(cpuSources({ server: cms.server.pid }, await server.postmasterPid()));
    const loop = await openLoop(perSecond, seconds, async (i) => {
      const sent = performance.now();
      const id = await saveDocument(cms.client, fixture, `Steady ${i}`);
      const at = performance.now();
      committed.set(id, at);
      mutation.push(at - sent);
    });
    const arrived = await Promise.race([waitFor(() => receipts.unique >= committed.size, () => receipts.total, stallMs, 10), cms.server.crashed]);
    const cpu = meter.stop();
    if (!arrived) log(`  WARNING: ${committed.size - receipts.unique} save(s) never arrived (nothing for ${stallMs} ms)`);
    const latencies: number[] = [];
    let missing = 0;
    for (const [id, at] of committed) {
      const receivedAt = receipts.at(path, id);
      if (receivedAt === undefined) missing++;
      else latencies.push(receivedAt - at);
    }
    const duplicates = receipts.duplicates;

    log(`  ${single} saves one at a time, each awaited at the receiver (${loadLine()})`);
    const one: number[] = [];
    for (let i = 0; i < single; i++) {
      const id = await saveDocument(cms.client, fixture, `One ${i}`);
      const at = performance.now();
      one.push((await receipts.arrival(path, id, stallMs)) - at);
    }
    return {
      perSecond, seconds, saves: committed.size, latency: summarize(latencies), mutation: summarize(mutation), oneAtATime: summarize(one),
      maxLateMs: loop.maxLateMs, missing, duplicates, cpu, load: loadLine(),
    };
  } finally {
    await cms.stop();
    await receiver.close();
  }
});

export const steady: Benchmark = {
  name: 'steady',
  description: 'commit → receipt p50/p95/p99 at a steady 200 saves/s for 15 s (server process, ROLE=all, one webhook)',
  async run(server, log) {
    const r = await measureSteady(server, log);
    const c = await ceilings();
    const floor = senderAt(c, 4);
    const row = (label: string, s: Summary) => [label, String(s.n), ms(s.median), ms(s.p95), ms(s.p99), ms(s.max)];
    log('');
    log(table(['commit → receipt', 'n', 'p50', 'p95', 'p99', 'max'], [
      row(`${r.perSecond} saves/s for ${r.seconds} s (open loop)`, r.latency),
      row('one save at a time (baseline)', r.oneAtATime),
      row(`the mutation's own round trip at ${r.perSecond}/s`, r.mutation),
      row(`${floor.label}, no database (floor)`, floor.latency),
    ]));
    log('');
    const verdict = (value: number, target: number) => `${ms(value)} (target ≤ ${target} ms: ${value <= target ? 'met' : 'not met'})`;
    log(table(['measure', 'value'], [
      ['p95 at the steady rate', verdict(r.latency.p95, TARGET_P95_MS)],
      ['p99 at the steady rate', verdict(r.latency.p99, TARGET_P99_MS)],
      ['p50 at the steady rate ÷ p50 one at a time', ratio(r.latency.median / r.oneAtATime.median)],
      ['p50 one at a time ÷ the sender\'s p50 alone', ratio(r.oneAtATime.median / floor.latency.median)],
      ['missing / duplicate receipts', `${r.missing} / ${r.duplicates}`],
      ['latest a save left after its scheduled time', ms(r.maxLateMs)],
    ]));
    log(`  ${saturation(r.cpu)}`);
  },
};
