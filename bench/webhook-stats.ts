import { WebhookStats1764400000000 } from '../migrations/1764400000000-WebhookStats';
import { StatsBucket } from '../src/stats/stats-buckets';
import { WebhookTrigger } from '../src/webhooks/triggers';
import { seed } from './log-pages';
import {
  type Benchmark, type DatabaseServer, loadLine, ms, option, ratio, startBenchApp, type Summary, table, timeRepeated,
} from './support';

/**
 * webhookStats (the console's health charts) over a big log: 1,000,000 log rows over 30 days,
 * 100,000 of them calls of the webhook asked about. The query reads the hourly rollups the
 * database keeps (migrations/1764400000000-WebhookStats.ts), never the raw rows; the raw
 * aggregate is timed too, as the baseline it replaces.
 *
 * Target: p95 ≤ 20 ms through GraphQL for 30 days by day. Absolute times depend on the
 * machine and its load, so the ratio to the cheapest authenticated GraphQL request
 * (`{ __typename }`: HTTP, token check, one trivial statement), measured in the same run,
 * is printed beside them.
 */

const STATS = `query WebhookStats($webhookId: ID!, $from: DateTime!, $to: DateTime!, $bucket: StatsBucket!) {
  webhookStats(webhookId: $webhookId, from: $from, to: $to, bucket: $bucket) {
    succeeded failed p50DurationMs p95DurationMs buckets { start succeeded failed p50DurationMs p95DurationMs }
  }
}`;
const DAY = 86_400_000;

async function run(server: DatabaseServer, log: (line: string) => void): Promise<void> {
  const rows = option('stats-rows', 1_000_000);
  const webhooks = option('stats-webhooks', 10);
  const reps = option('reps', 50);
  log(`webhook-stats: ${rows} log rows over 30 days across ${webhooks} webhooks (${Math.round(rows / webhooks)} per webhook), ${reps} repetitions each (${loadLine()})`);

  // Seeding a million rows in one statement outlasts the default statement timeout.
  const bench = await startBenchApp(await server.createDatabase('webhook_stats'), { ROLE: 'api', DATABASE_STATEMENT_TIMEOUT_MS: '0' });
  try {
    const { services, dataSource } = bench.app;
    const project = await services.projects.create(bench.actor, 'Bench stats');
    const ids: string[] = [];
    for (let i = 0; i < webhooks; i++) {
      const webhook = await services.webhooks.create(bench.actor, project.id, { name: `Receiver ${i}`, url: `https://hooks.example.com/cms/${i}`, triggers: [WebhookTrigger.DOCUMENT_CREATE] });
      ids.push(webhook.id);
    }
    let started = performance.now();
    await seed(bench, project.id, ids, rows);
    // The seed may load with the table's triggers off (it does for speed), so the rollups are
    // built again from the log the way their migration builds them for calls logged before it:
    // down, then up, in one transaction. A seed that left the trigger on counts nothing twice.
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SET statement_timeout = 0');
      await runner.startTransaction();
      const migration = new WebhookStats1764400000000();
      await migration.down(runner);
      await migration.up(runner);
      await runner.commitTransaction();
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.query('RESET statement_timeout');
      await runner.release();
    }
    const [shape] = await dataSource.query(
      `SELECT (SELECT count(*) FROM webhook_call) AS calls, (SELECT count(*) FROM webhook_call WHERE webhook_id = $1) AS of_one,
              (SELECT count(*) FROM webhook_call_hourly WHERE webhook_id = $1) AS rollups,
              pg_size_pretty(pg_total_relation_size('webhook_call')) AS log_size, pg_size_pretty(pg_total_relation_size('webhook_call_hourly')) AS rollup_size`,
      [ids[0]],
    );
    log(`  seeded in ${((performance.now() - started) / 1000).toFixed(1)} s: ${shape.calls} calls, ${shape.of_one} of the measured webhook in ${shape.rollups} hourly rollups; log ${shape.log_size}, rollups ${shape.rollup_size}`);

    const now = Date.now();
    const gql = async (query: string, variables?: Record<string, unknown>) => {
      const res = await fetch(bench.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${bench.token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: { webhookStats?: { succeeded: number; failed: number } }; errors?: unknown[] };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data;
    };
    const stats = (bucket: 'HOUR' | 'DAY', days: number) => () =>
      gql(STATS, { webhookId: ids[0], bucket, from: new Date(now - days * DAY).toISOString(), to: new Date(now).toISOString() });

    // The answer must count what was seeded: every call of the webhook falls in the last 31 days.
    const month = await stats('DAY', 31)();
    const counted = month!.webhookStats!.succeeded + month!.webhookStats!.failed;
    if (counted !== Number(shape.of_one)) throw new Error(`webhookStats counted ${counted} calls, the log holds ${shape.of_one}`);

    log(`  timing (${loadLine()})`);
    const results: Array<{ what: string; s: Summary }> = [];
    const time = async (what: string, fn: () => Promise<unknown>) => {
      const s = await timeRepeated(reps, fn);
      results.push({ what, s });
      return s;
    };
    const baseline = await time('{ __typename } (authenticated; the floor)', () => gql('{ __typename }'));
    const days30 = await time('webhookStats DAY, 30 days (30 buckets)', stats('DAY', 30));
    const hours24 = await time('webhookStats HOUR, 24 hours (24 buckets)', stats('HOUR', 1));
    const hours31 = await time('webhookStats HOUR, 31 days (745 buckets)', stats('HOUR', 31));
    const service = await time('  the same 30 days by day, service only', () =>
      services.stats.stats(bench.actor, ids[0], new Date(now - 30 * DAY), new Date(now), StatsBucket.DAY));
    const raw = await time('  raw rows instead (count + percentile_cont per day, SQL)', () =>
      dataSource.query(
        `SELECT date_trunc('day', created_at, 'UTC') AS day, count(*) FILTER (WHERE success), count(*) FILTER (WHERE NOT success),
                percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms), percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)
           FROM webhook_call WHERE webhook_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY 1`,
        [ids[0], new Date(now - 30 * DAY), new Date(now)],
      ));
    log('');
    log(table(['query', 'median', 'p95', 'max'], results.map((r) => [r.what, ms(r.s.median), ms(r.s.p95), ms(r.s.max)])));
    log('');
    log(table(['ratio (same run)', 'median', 'p95'], [
      ['webhookStats 30 days by day ÷ { __typename }', ratio(days30.median / baseline.median), ratio(days30.p95 / baseline.p95)],
      ['webhookStats 24 hours by hour ÷ { __typename }', ratio(hours24.median / baseline.median), ratio(hours24.p95 / baseline.p95)],
      ['webhookStats 31 days by hour ÷ { __typename }', ratio(hours31.median / baseline.median), ratio(hours31.p95 / baseline.p95)],
      ['raw-row aggregate (SQL) ÷ the service on rollups', ratio(raw.median / service.median), ratio(raw.p95 / service.p95)],
    ]));
    log(`  target: webhookStats p95 ≤ 20 ms at ${rows} rows: ${days30.p95 <= 20 ? 'met' : 'NOT met'} (30 days by day, p95 ${ms(days30.p95)})`);
  } finally {
    await bench.app.stop();
  }
}

export const webhookStats: Benchmark = {
  name: 'webhook-stats',
  description: 'webhookStats (health charts) over 1,000,000 log rows, 100,000 of one webhook, vs the cheapest GraphQL request and vs raw rows',
  run,
};
