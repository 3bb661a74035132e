import crypto from 'node:crypto';
import http from 'node:http';
import got from 'got';
import PgBoss from 'pg-boss';
import { Pool } from 'pg';

/**
 * What a user would build instead of the project's delivery core, run by the `pgboss`
 * benchmark as its own process: a pg-boss worker that POSTs each job's body with got (keep-alive),
 * signed the Standard Webhooks way with node:crypto, and writes a log row of the same shape as
 * the project's call log, one INSERT per attempt. A reasonable user's tuning: a batch per
 * fetch, `PGBOSS_CONCURRENCY` requests in flight (the project's per-webhook cap), and a full
 * batch fetches the next at once instead of waiting for the next poll.
 *
 * Environment: DATABASE_URL, PGBOSS_QUEUE, PGBOSS_CONCURRENCY, PGBOSS_BATCH, WEBHOOK_URL,
 * WEBHOOK_SECRET (whsec_…).
 */

export interface JobData {
  eventId: string;
  projectId: string;
  webhookId: string;
  trigger: string;
  body: string;
}

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

/** The log table, the shape of the project's webhook_call (columns and indexes), without its live-log trigger. */
export const LOG_TABLE_DDL = [
  `CREATE TABLE bench_call (id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY, delivery_id uuid, webhook_id uuid NOT NULL,
     project_id uuid NOT NULL, event_id uuid NOT NULL, trigger text NOT NULL, kind text NOT NULL, attempt integer NOT NULL,
     success boolean NOT NULL, error text, duration_ms integer NOT NULL, next_retry_at timestamptz,
     created_at timestamp(3) with time zone NOT NULL DEFAULT now(), request_method text NOT NULL, request_url text NOT NULL,
     request_headers jsonb NOT NULL, request_body text NOT NULL, response_status_code integer, response_headers jsonb, response_body text)`,
  'CREATE INDEX ON bench_call (event_id)',
  'CREATE INDEX ON bench_call (webhook_id, created_at, id)',
  'CREATE INDEX ON bench_call (project_id, created_at, id)',
  'CREATE INDEX ON bench_call USING brin (created_at)',
];

async function main(): Promise<void> {
  const databaseUrl = env('DATABASE_URL');
  const queue = env('PGBOSS_QUEUE');
  const concurrency = Number(env('PGBOSS_CONCURRENCY'));
  const batchSize = Number(env('PGBOSS_BATCH'));
  const url = env('WEBHOOK_URL');
  const secret = Buffer.from(env('WEBHOOK_SECRET').replace(/^whsec_/, ''), 'base64');
  const agent = { http: new http.Agent({ keepAlive: true, maxSockets: concurrency }) };
  const pool = new Pool({ connectionString: databaseUrl, max: concurrency });
  const boss = new PgBoss({ connectionString: databaseUrl });
  boss.on('error', (error) => console.error(`pg-boss: ${error.message}`));
  await boss.start();

  const deliver = async (job: PgBoss.Job<JobData>): Promise<boolean> => {
    const { eventId, projectId, webhookId, trigger, body } = job.data;
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = crypto.createHmac('sha256', secret).update(`${eventId}.${timestamp}.${body}`).digest('base64');
    const headers = [
      { name: 'user-agent', value: 'bench-pgboss/1' },
      { name: 'content-type', value: 'application/json' },
      { name: 'webhook-id', value: eventId },
      { name: 'webhook-timestamp', value: String(timestamp) },
      { name: 'webhook-signature', value: `v1,${signature}` },
    ];
    const started = performance.now();
    let status: number | null = null;
    let responseHeaders: Array<{ name: string; value: string }> | null = null;
    let responseBody: string | null = null;
    let error: string | null = null;
    try {
      const res = await got.post(url, {
        body,
        headers: Object.fromEntries(headers.map((h) => [h.name, h.value])),
        agent,
        timeout: { request: 10_000 },
        retry: { limit: 0 },
        throwHttpErrors: false,
        followRedirect: false,
      });
      status = res.statusCode;
      responseHeaders = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) responseHeaders.push({ name: res.rawHeaders[i], value: res.rawHeaders[i + 1] });
      responseBody = res.body.slice(0, 64 * 1024);
    } catch (e) {
      error = (e as Error).message;
    }
    const success = status !== null && status >= 200 && status < 300;
    await pool.query(
      `INSERT INTO bench_call (delivery_id, webhook_id, project_id, event_id, trigger, kind, attempt, success, error, duration_ms,
                               request_method, request_url, request_headers, request_body, response_status_code, response_headers, response_body)
       VALUES ($1, $2, $3, $4, $5, 'EVENT', 1, $6, $7, $8, 'POST', $9, $10, $11, $12, $13, $14)`,
      [job.id, webhookId, projectId, eventId, trigger, success, error ?? (success ? null : `receiver answered ${status}`),
        Math.round(performance.now() - started), url, JSON.stringify(headers), body, status, responseHeaders && JSON.stringify(responseHeaders), responseBody],
    );
    return success;
  };

  let workerId = '';
  workerId = await boss.work<JobData>(queue, { batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => {
    // A full batch means more are waiting: fetch again at once instead of after the poll interval.
    if (jobs.length === batchSize) boss.notifyWorker(workerId);
    const failed: string[] = [];
    let next = 0;
    const lane = async () => {
      while (next < jobs.length) {
        const job = jobs[next++];
        if (!(await deliver(job))) failed.push(job.id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, lane));
    // The rest of the batch is completed by pg-boss when this returns; the failed ones retry.
    if (failed.length > 0) await boss.fail(queue, failed);
  });
  console.log(`pg-boss worker ${workerId} on ${queue}: batch ${batchSize}, ${concurrency} in flight`);

  const stop = () => {
    boss
      .stop({ graceful: true, wait: true, timeout: 10_000 })
      .then(() => pool.end())
      .then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
