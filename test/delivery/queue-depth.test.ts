import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { queueDepth } from '../../src/delivery/queue-depth';
import { createTestDatabase } from '../support/database';
import { createFixture, createWebhook, Fixture } from '../support/fixtures';

/** The queue gauges' one statement, against rows in every state (no worker runs here). */
let db: DataSource;
let fixture: Fixture;

beforeAll(async () => {
  db = (await createTestDatabase('qdepth')).dataSource;
  fixture = await createFixture(db);
}, 60_000);

afterAll(async () => {
  await db?.destroy();
});

async function delivery(webhookId: string, values: { dueInS: number; leasedForS?: number; status?: string }): Promise<void> {
  await db.query(
    `INSERT INTO webhook_delivery (event_id, webhook_id, project_id, trigger, body, kind, status, next_attempt_at, lease_expires_at, leased_by)
     VALUES ($1, $2, $3, 'document_create', '{}', 'EVENT', $4, now() + $5 * interval '1 second',
             CASE WHEN $6::float8 IS NULL THEN NULL ELSE now() + $6::float8 * interval '1 second' END, CASE WHEN $6::float8 IS NULL THEN NULL ELSE 'w1' END)`,
    [randomUUID(), webhookId, fixture.project.id, values.status ?? 'pending', values.dueInS, values.leasedForS ?? null],
  );
}

it('counts pending deliveries by state and ages the oldest due one', async () => {
  expect(await queueDepth(db, 2000)).toEqual({ due: 0, inFlight: 0, scheduled: 0, paused: 0, oldestDueSeconds: 0 });

  const enabled = await createWebhook(db, { projectId: fixture.project.id, url: 'http://127.0.0.1:9/a' });
  const disabled = await createWebhook(db, { projectId: fixture.project.id, url: 'http://127.0.0.1:9/b', enabled: false });
  await delivery(enabled.id, { dueInS: -120 }); // due for two minutes
  await delivery(enabled.id, { dueInS: -5 });
  await delivery(enabled.id, { dueInS: -300, leasedForS: -1 }); // its lease ran out: due again, the oldest
  await delivery(enabled.id, { dueInS: -600, leasedForS: 30 }); // in flight
  await delivery(enabled.id, { dueInS: 3600 }); // a retry in an hour
  await delivery(disabled.id, { dueInS: -60 });
  await delivery(disabled.id, { dueInS: 3600 });
  await delivery(enabled.id, { dueInS: -900, status: 'succeeded' });
  await delivery(enabled.id, { dueInS: -900, status: 'failed' });

  const depth = await queueDepth(db, 2000);
  expect(depth).toMatchObject({ due: 3, inFlight: 1, scheduled: 1, paused: 2 });
  expect(depth.oldestDueSeconds).toBeGreaterThanOrEqual(300);
  expect(depth.oldestDueSeconds).toBeLessThan(360);
});

it('gives up at its own statement timeout instead of holding the scrape', async () => {
  const lock = db.createQueryRunner();
  await lock.connect();
  try {
    await lock.startTransaction();
    // Holds the table: the count waits on the lock until its statement timeout cancels it.
    await lock.query('LOCK TABLE webhook_delivery IN ACCESS EXCLUSIVE MODE');
    const started = Date.now();
    await expect(queueDepth(db, 200)).rejects.toThrow(/statement timeout/);
    expect(Date.now() - started).toBeLessThan(5_000);
  } finally {
    await lock.rollbackTransaction();
    await lock.release();
  }
});
