import { randomUUID, randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import PgBoss from 'pg-boss';
import { defaultCap, measureBacklog } from './backlog';
import { sampleBody } from './ceiling';
import { type JobData, LOG_TABLE_DDL } from './pgboss-worker';
import { measureSteady } from './steady';
import { type Benchmark, type DatabaseServer, loadLine, ms, onServer, option, rate, ratio, sized, summarize, table, waitFor } from './support';
import { documentIdOf, openLoop, Receipts, startReceiver } from './support-http';
import { cpuMeter, cpuSources, peakRssOf, saturation, spawnNode } from './support-process';

/**
 * What a user would build instead: a pg-boss queue on the same PostgreSQL. The save path
 * would enqueue a job; a ROLE=api server cannot, so this process enqueues the jobs itself,
 * the same number as `backlog` (pg-boss `insert`, before the worker starts) and at the same
 * steady rate as `steady` (`send`, one job per event, scheduled by time). The worker is its own
 * process (bench/pgboss-worker.ts): got, HMAC signing, one log row of the project's shape per
 * attempt, as many requests in flight as the project's per-webhook cap.
 * Reported beside the project's own figures from the same run, as ratios.
 */

const QUEUE = 'webhook';

async function setUp(server: DatabaseServer): Promise<{ databaseUrl: string; boss: PgBoss }> {
  const databaseUrl = await server.createDatabase('pgboss');
  await onServer(server.url, `CREATE DATABASE "${new URL(databaseUrl).pathname.slice(1)}"`);
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const sql of LOG_TABLE_DDL) await client.query(sql);
  } finally {
    await client.end();
  }
  // The producer only enqueues: maintenance and scheduling run in the worker, as in a real deployment.
  const boss = new PgBoss({ connectionString: databaseUrl, supervise: false, schedule: false });
  boss.on('error', (error) => console.error(`pg-boss (producer): ${error.message}`));
  await boss.start();
  await boss.createQueue(QUEUE);
  return { databaseUrl, boss };
}

/** One job: a document_create body of the project's exact size, for one webhook. */
function job(projectId: string, webhookId: string): JobData {
  const eventId = randomUUID();
  return { eventId, projectId, webhookId, trigger: 'document_create', body: sampleBody(eventId, projectId, webhookId) };
}

export const pgboss: Benchmark = {
  name: 'pgboss',
  description: 'the same backlog and steady load through a pg-boss queue and worker (got, HMAC, a log row), beside the project',
  async run(server, log) {
    const events = sized('backlog-events', 20_000, 1_000);
    const perSecond = option('steady-rate', 200);
    const seconds = sized('steady-seconds', 15, 3);
    const batch = option('pgboss-batch', 100);
    const cap = defaultCap();
    const stallMs = option('stall-ms', 60_000);
    // The project's figures first (measured once per run, shared with `steady` and `backlog`).
    const project = { backlog: (await measureBacklog(server, log)).drained, steady: await measureSteady(server, log) };

    const receipts = new Receipts();
    const receiver = await startReceiver(receipts.record);
    const receiptPath = new URL(receiver.url).pathname;
    const { databaseUrl, boss } = await setUp(server);
    const projectId = randomUUID();
    const webhookId = randomUUID();
    let worker: Awaited<ReturnType<typeof spawnNode>> | null = null;
    try {
      log(`  pg-boss backlog: inserting ${events} jobs, then one worker process drains them (batch ${batch}, ${cap} in flight) (${loadLine()})`);
      for (let i = 0; i < events; i += 1_000) {
        await boss.insert(Array.from({ length: Math.min(1_000, events - i) }, () => ({ name: QUEUE, data: job(projectId, webhookId) })));
      }
      const postmaster = await server.postmasterPid();
      let meter: ReturnType<typeof cpuMeter> | null = null;
      receipts.onFirst = () => (meter = cpuMeter(cpuSources({ 'pg-boss worker': worker!.pid }, postmaster)));
      worker = await spawnNode(path.join(__dirname, 'pgboss-worker.js'), {
        DATABASE_URL: databaseUrl, PGBOSS_QUEUE: QUEUE, PGBOSS_CONCURRENCY: String(cap), PGBOSS_BATCH: String(batch),
        WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('base64')}`,
      }, { waitForGraphql: false });
      const drained = await Promise.race([waitFor(() => receipts.unique >= events, () => receipts.total, stallMs, 10), worker.crashed]);
      const drainCpu = (meter as ReturnType<typeof cpuMeter> | null)?.stop();
      receipts.onFirst = null;
      if (!drained || !drainCpu) throw new Error(`pg-boss drain: ${receipts.unique} of ${events} arrived, then nothing for ${stallMs} ms`);
      const drainPerSec = (receipts.unique - 1) / ((receipts.lastAt - receipts.firstAt) / 1000);
      const peakRss = peakRssOf(worker.pid);

      log(`  pg-boss steady: ${perSecond} jobs/s for ${seconds} s (${loadLine()})`);
      receipts.reset();
      const committed = new Map<string, number>();
      const steadyMeter = cpuMeter(cpuSources({ 'pg-boss worker': worker.pid }, postmaster));
      await openLoop(perSecond, seconds, async () => {
        const data = job(projectId, webhookId);
        await boss.send(QUEUE, data);
        committed.set(documentIdOf(data.body), performance.now());
      });
      const arrived = await Promise.race([waitFor(() => receipts.unique >= committed.size, () => receipts.total, stallMs, 10), worker.crashed]);
      const steadyCpu = steadyMeter.stop();
      if (!arrived) throw new Error(`pg-boss steady: ${receipts.unique} of ${committed.size} arrived, then nothing for ${stallMs} ms`);
      const latency = summarize([...committed].map(([id, at]) => receipts.at(receiptPath, id)! - at));

      const p = project.steady.latency;
      log('');
      log(table(['figure (same run)', 'project', 'pg-boss', 'project ÷ pg-boss'], [
        [`backlog of ${events} to one webhook, deliveries/s`, rate(project.backlog.perSec), rate(drainPerSec), ratio(project.backlog.perSec / drainPerSec)],
        ['  peak RSS of the worker process', `${(project.backlog.peakRss[0] / 2 ** 20).toFixed(0)} MB`, `${(peakRss / 2 ** 20).toFixed(0)} MB`, ratio(project.backlog.peakRss[0] / peakRss)],
        [`steady ${perSecond}/s: commit → receipt p50`, ms(p.median), ms(latency.median), ratio(p.median / latency.median)],
        ['  p95', ms(p.p95), ms(latency.p95), ratio(p.p95 / latency.p95)],
        ['  p99', ms(p.p99), ms(latency.p99), ratio(p.p99 / latency.p99)],
      ]));
      log(`  pg-boss: batch ${batch}, polling every 0.5 s (its minimum; a full batch fetches again at once), ${cap} requests in flight`);
      log(`  pg-boss drain: ${saturation(drainCpu)}`);
      log(`  pg-boss steady: ${saturation(steadyCpu)}`);
    } finally {
      receipts.onFirst = null;
      await worker?.stop();
      await boss.stop({ graceful: false, wait: true });
      await receiver.close();
    }
  },
};
