import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { type SettleEntry, settleOutcomes } from '../../src/delivery/queue';
import { DEFAULT_SETTLE_HEALTH } from '../../src/health/health.rules';
import { createTestDatabase } from '../support/database';
import { createFixture, createWebhook } from '../support/fixtures';

/**
 * Many statements settling outcomes of one webhook at the same moment, each on its own pooled
 * connection: the counts come out exact (no lost update) and each change of state is recorded
 * exactly once, whatever order the row lock hands them out in.
 */
let db: DataSource;

beforeAll(async () => {
  ({ dataSource: db } = await createTestDatabase('race'));
});

afterAll(async () => {
  await db?.destroy();
});

function outcome(projectId: string, webhookId: string, success: boolean): SettleEntry {
  return {
    call: {
      id: randomUUID(),
      deliveryId: null,
      webhookId,
      projectId,
      eventId: randomUUID(),
      trigger: 'document_create',
      kind: 'TEST',
      attempt: 1,
      success,
      error: success ? null : 'HTTP 500',
      durationMs: 3,
      requestMethod: 'POST',
      requestUrl: 'https://receiver.example.test/hook',
      requestHeaders: [],
      requestBody: '{}',
      responseStatusCode: success ? 200 : 500,
      responseHeaders: [],
      responseBody: '',
    },
  };
}

test('40 failures settled at once, then 40 successes: 40 counted, one FAILING, one HEALTHY', async () => {
  const { project } = await createFixture(db);
  const rules = { ...DEFAULT_SETTLE_HEALTH, failingAfter: 3, failingRatePercent: 0 };
  for (let round = 0; round < 3; round++) {
    const webhook = await createWebhook(db, { projectId: project.id, url: 'https://receiver.example.test/hook' });
    // Two webhooks in every batch, in both orders: locks taken in id order cannot deadlock.
    const other = await createWebhook(db, { projectId: project.id, url: 'https://receiver.example.test/other' });
    const batch = (success: boolean, i: number) =>
      i % 2 === 0 ? [outcome(project.id, webhook.id, success), outcome(project.id, other.id, success)] : [outcome(project.id, other.id, success), outcome(project.id, webhook.id, success)];
    await Promise.all(Array.from({ length: 40 }, (_, i) => settleOutcomes(db, batch(false, i), rules)));
    const [failed] = await db.query(`SELECT health_state, consecutive_failures FROM webhook WHERE id = $1`, [webhook.id]);
    expect(failed).toEqual({ health_state: 'FAILING', consecutive_failures: 80 / 2 });

    await Promise.all(Array.from({ length: 40 }, (_, i) => settleOutcomes(db, batch(true, i), rules)));
    const [recovered] = await db.query(`SELECT health_state, consecutive_failures, failing_since FROM webhook WHERE id = $1`, [webhook.id]);
    expect(recovered).toEqual({ health_state: 'HEALTHY', consecutive_failures: 0, failing_since: null });

    const changes = await db.query(`SELECT webhook_id, previous_state, state FROM webhook_health_event WHERE webhook_id = ANY($1::uuid[]) ORDER BY created_at`, [[webhook.id, other.id]]);
    expect(changes.filter((c: { webhook_id: string }) => c.webhook_id === webhook.id).map((c: { previous_state: string; state: string }) => `${c.previous_state}>${c.state}`)).toEqual([
      'HEALTHY>FAILING',
      'FAILING>HEALTHY',
    ]);
    expect(changes.filter((c: { webhook_id: string }) => c.webhook_id === other.id)).toHaveLength(2);
  }
});
