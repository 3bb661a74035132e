import type { DataSource } from 'typeorm';
import { Document } from '../../src/cms/document.entity';
import { startDeliveryWorker } from '../../src/delivery/delivery.worker';
import { dispatchPendingEvents } from '../../src/delivery/fanout.service';
import { pruneExpired } from '../../src/delivery/retention';
import { WebhookTrigger } from '../../src/webhooks/triggers';
import { testWebhookConfig } from '../support/config';
import { createTestDatabase } from '../support/database';
import { callRow, captureLog, createFixture, createWebhook, insertCalls } from '../support/fixtures';
import { waitUntil } from '../support/wait';
import { silentLogger } from '../../src/observability/logger';

let dataSource: DataSource;
let url: string;
const DAY = 24 * 3_600_000;

beforeAll(async () => {
  ({ dataSource, url } = await createTestDatabase('retention'));
});

afterAll(async () => {
  await dataSource?.destroy();
});

const count = async (sql: string, params: unknown[] = []): Promise<number> => (await dataSource.query(sql, params))[0].n;

/**
 * A project whose webhook has, for each age: one log row, one succeeded, one failed and one
 * pending delivery, their events dispatched; plus one undispatched event. Ages in days.
 */
async function history(ages: number[]) {
  const { project, blueprint } = await createFixture(dataSource);
  const webhook = await createWebhook(dataSource, { projectId: project.id, url: 'http://127.0.0.1:9/r', triggers: [WebhookTrigger.DOCUMENT_CREATE] });
  for (const age of ages) {
    await insertCalls(dataSource, [callRow(project.id, webhook.id, { createdAt: new Date(Date.now() - age * DAY) })]);
    for (const status of ['succeeded', 'failed', 'pending']) {
      await dataSource.manager.save(Document, dataSource.manager.create(Document, { projectId: project.id, blueprintId: blueprint.id }));
      while ((await dispatchPendingEvents(dataSource)) > 0);
      await dataSource.query(
        `UPDATE webhook_delivery SET status = $2, created_at = now() - $3 * interval '1 day'
          WHERE id = (SELECT id FROM webhook_delivery WHERE webhook_id = $1 AND created_at > now() - interval '1 minute' ORDER BY created_at DESC LIMIT 1)`,
        [webhook.id, status, age],
      );
      await dataSource.query(`UPDATE domain_event SET created_at = now() - $2 * interval '1 day' WHERE project_id = $1 AND created_at > now() - interval '1 minute'`, [project.id, age]);
    }
  }
  await dataSource.query(
    `INSERT INTO domain_event (project_id, trigger, metadata, created_at) VALUES ($1, 'document_create', '{}', now() - interval '400 days')`,
    [project.id],
  );
  // Paused, so a worker under test sends nothing and logs no new rows.
  await dataSource.query(`UPDATE webhook SET enabled = false WHERE id = $1`, [webhook.id]);
  return { project, webhook };
}

const left = async (projectId: string, webhookId: string) => ({
  calls: await count(`SELECT count(*)::int AS n FROM webhook_call WHERE webhook_id = $1`, [webhookId]),
  deliveries: Object.fromEntries(
    (await dataSource.query(`SELECT status, count(*)::int AS n FROM webhook_delivery WHERE webhook_id = $1 GROUP BY status`, [webhookId])).map(
      (r: { status: string; n: number }) => [r.status, r.n],
    ),
  ),
  dispatched: await count(`SELECT count(*)::int AS n FROM domain_event WHERE project_id = $1 AND dispatched_at IS NOT NULL`, [projectId]),
  undispatched: await count(`SELECT count(*)::int AS n FROM domain_event WHERE project_id = $1 AND dispatched_at IS NULL`, [projectId]),
});

describe('pruneExpired', () => {
  it('deletes log rows, finished deliveries and dispatched events past retention, in batches, and nothing else', async () => {
    const { project, webhook } = await history([200, 120, 91, 89, 10, 0]);
    const result = await pruneExpired(dataSource, { retentionMs: 90 * DAY, batchSize: 2 });
    // Also what earlier tests of this file left past 90 days: counts of this project are checked below.
    expect(result!.calls).toBeGreaterThanOrEqual(3);
    expect(result!.deliveries).toBeGreaterThanOrEqual(6);
    expect(result!.events).toBeGreaterThanOrEqual(9);
    expect(await left(project.id, webhook.id)).toEqual({
      calls: 3,
      // All of 89, 10 and 0 days, and the three old pending ones (a paused webhook keeps its queue).
      deliveries: { succeeded: 3, failed: 3, pending: 6 },
      dispatched: 9,
      undispatched: 1, // never fanned out: kept however old
    });
    expect(await pruneExpired(dataSource, { retentionMs: 90 * DAY })).toEqual({ calls: 0, deliveries: 0, events: 0 });
  });

  it('stops between batches when asked', async () => {
    const { webhook } = await history([100, 100, 100]);
    let batches = 0;
    const result = await pruneExpired(dataSource, { retentionMs: 90 * DAY, batchSize: 1, shouldStop: () => ++batches > 2 });
    expect(result).toEqual({ calls: 2, deliveries: 0, events: 0 });
    expect(await count(`SELECT count(*)::int AS n FROM webhook_call WHERE webhook_id = $1`, [webhook.id])).toBe(1);
  });

  it('runs in one process at a time: a second run while the first holds the job skips', async () => {
    const holder = await dataSource.createQueryRunner();
    await holder.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock($1)`, [0x636d7372]);
      expect(await pruneExpired(dataSource, { retentionMs: 90 * DAY })).toBeNull();
      await holder.query(`SELECT pg_advisory_unlock($1)`, [0x636d7372]);
      expect(await pruneExpired(dataSource, { retentionMs: 90 * DAY })).not.toBeNull();
    } finally {
      await holder.release();
    }
  });
});

describe('the worker', () => {
  it('prunes when it starts, and logs what it deleted', async () => {
    const { webhook } = await history([30, 1]);
    const logged = captureLog();
    const worker = startDeliveryWorker({ dataSource, databaseUrl: url, config: testWebhookConfig({ logRetentionMs: 14 * DAY }), log: logged.log });
    try {
      await waitUntil('the old log row to be deleted', async () => (await count(`SELECT count(*)::int AS n FROM webhook_call WHERE webhook_id = $1`, [webhook.id])) === 1);
      await waitUntil('the retention line', () => logged.lines.some((l) => /^retention: deleted \d+ log row\(s\), \d+ finished deliveries, \d+ dispatched event\(s\) past 336 h$/.test(l)));
    } finally {
      await worker.stop(500);
    }
  });

  it('keeps everything when retention is off', async () => {
    const { webhook } = await history([400]);
    const worker = startDeliveryWorker({ dataSource, databaseUrl: url, config: testWebhookConfig({ logRetentionMs: null }), log: silentLogger });
    try {
      await worker.ready;
      await worker.drained();
    } finally {
      await worker.stop(500);
    }
    expect(await count(`SELECT count(*)::int AS n FROM webhook_call WHERE webhook_id = $1`, [webhook.id])).toBe(1);
  });
});
