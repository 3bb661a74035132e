import type { DataSource } from 'typeorm';
import { Document } from '../../src/cms/document.entity';
import { claimDueDeliveries } from '../../src/delivery/claim';
import { DeliveryStatus } from '../../src/delivery/delivery.entity';
import { dispatchPendingEvents } from '../../src/delivery/fanout.service';
import { type CallRow, recordAttempt } from '../../src/delivery/record';
import { WebhookCall } from '../../src/delivery/webhook-call.entity';
import { WebhookTrigger } from '../../src/webhooks/triggers';
import { createTestDatabase } from '../support/database';
import { createFixture, createWebhook } from './helpers';

let dataSource: DataSource;

beforeAll(async () => {
  ({ dataSource } = await createTestDatabase('record'));
});

afterAll(async () => {
  await dataSource?.destroy();
});

/** One delivery, leased by `w1`. */
async function leasedDelivery() {
  await dataSource.query(`UPDATE webhook_delivery SET status = 'succeeded'`);
  const { project, blueprint } = await createFixture(dataSource);
  const webhook = await createWebhook(dataSource, { projectId: project.id, url: 'http://127.0.0.1:9/r', triggers: [WebhookTrigger.DOCUMENT_CREATE] });
  await dataSource.manager.save(Document, dataSource.manager.create(Document, { projectId: project.id, blueprintId: blueprint.id }));
  while ((await dispatchPendingEvents(dataSource)) > 0);
  const { claimed } = await claimDueDeliveries(dataSource, {
    limit: 10,
    free: 10,
    perWebhookConcurrency: 4,
    busy: new Map(),
    inFlightIds: [],
    leaseMs: 60_000,
    workerId: 'w1',
  });
  expect(claimed).toHaveLength(1);
  return claimed[0];
}

function row(d: Awaited<ReturnType<typeof leasedDelivery>>, overrides: Partial<CallRow> = {}): CallRow {
  return {
    deliveryId: d.id,
    webhookId: d.webhookId,
    projectId: d.webhook.projectId,
    eventId: d.eventId,
    trigger: d.trigger,
    kind: d.kind,
    attempt: d.attempts + 1,
    success: false,
    error: 'Receiver answered 503',
    durationMs: 12,
    requestMethod: 'POST',
    requestUrl: d.webhook.url,
    requestHeaders: [{ name: 'x-secret', value: '••••••' }],
    requestBody: d.body,
    responseStatusCode: 503,
    responseHeaders: [{ name: 'retry-after', value: '1' }],
    responseBody: 'busy',
    ...overrides,
  };
}

const deliveryRow = async (id: string) =>
  (await dataSource.query(`SELECT status, attempts, next_attempt_at, leased_by, lease_expires_at FROM webhook_delivery WHERE id = $1`, [id]))[0];

describe('recordAttempt', () => {
  it('settles the delivery and logs the attempt with the retry time the settle computed', async () => {
    const d = await leasedDelivery();
    const { call, settled } = await recordAttempt(dataSource, row(d), { id: d.id, workerId: 'w1', status: DeliveryStatus.PENDING, retryInMs: 60_000 });
    expect(settled).toBe(true);
    const after = await deliveryRow(d.id);
    expect(after).toMatchObject({ status: 'pending', attempts: 1, leased_by: null, lease_expires_at: null });
    expect(call.nextRetryAt).toEqual(after.next_attempt_at);
    expect(after.next_attempt_at.getTime() - Date.now()).toBeGreaterThan(50_000);
    // The returned entity is exactly the stored row.
    const stored = await dataSource.getRepository(WebhookCall).findOneByOrFail({ id: call.id });
    expect(call).toEqual(stored);
    expect(stored).toMatchObject({ attempt: 1, success: false, responseStatusCode: 503, responseBody: 'busy', deliveryId: d.id });
    expect(stored.requestHeaders).toEqual([{ name: 'x-secret', value: '••••••' }]);
  });

  it('keeps next_attempt_at and logs no retry time when the delivery is finished', async () => {
    const d = await leasedDelivery();
    const before = await deliveryRow(d.id);
    const { call, settled } = await recordAttempt(dataSource, row(d, { success: true, responseStatusCode: 204, error: null }), {
      id: d.id,
      workerId: 'w1',
      status: DeliveryStatus.SUCCEEDED,
      retryInMs: null,
    });
    expect(settled).toBe(true);
    expect(call.nextRetryAt).toBeNull();
    expect(await deliveryRow(d.id)).toMatchObject({ status: 'succeeded', attempts: 1, next_attempt_at: before.next_attempt_at, leased_by: null });
  });

  it('logs the attempt but leaves the delivery alone when another worker holds the lease', async () => {
    const d = await leasedDelivery();
    const before = await deliveryRow(d.id);
    const { call, settled } = await recordAttempt(dataSource, row(d), { id: d.id, workerId: 'w2', status: DeliveryStatus.FAILED, retryInMs: null });
    expect(settled).toBe(false);
    expect(call.nextRetryAt).toBeNull();
    expect(await deliveryRow(d.id)).toEqual(before);
    expect(await dataSource.getRepository(WebhookCall).countBy({ id: call.id })).toBe(1);
  });

  it('logs a replay or test send, which has no delivery', async () => {
    const d = await leasedDelivery();
    const before = await deliveryRow(d.id);
    const { call, settled } = await recordAttempt(dataSource, row(d, { deliveryId: null, kind: 'TEST' }));
    expect(settled).toBe(false);
    expect(call).toMatchObject({ deliveryId: null, kind: 'TEST', nextRetryAt: null, attempt: 1 });
    expect(await deliveryRow(d.id)).toEqual(before);
  });
});

describe('recordAttempt handing the slot over', () => {
  /** Two webhooks, each with `count` due deliveries; the first of `a` leased by w1, due times apart. */
  async function backlog(count: number) {
    await dataSource.query(`UPDATE webhook_delivery SET status = 'succeeded'`);
    const { project, blueprint } = await createFixture(dataSource);
    const triggers = [WebhookTrigger.DOCUMENT_CREATE];
    const a = await createWebhook(dataSource, { projectId: project.id, url: 'http://127.0.0.1:9/a', triggers });
    const b = await createWebhook(dataSource, { projectId: project.id, url: 'http://127.0.0.1:9/b', triggers });
    for (let i = 0; i < count; i++) await dataSource.manager.save(Document, dataSource.manager.create(Document, { projectId: project.id, blueprintId: blueprint.id }));
    while ((await dispatchPendingEvents(dataSource)) > 0);
    // Distinct due times: b's deliveries are the oldest of all, then a's in order.
    await dataSource.query(
      `UPDATE webhook_delivery d SET next_attempt_at = now() - interval '1 minute' + n * interval '1 second'
         FROM (SELECT id, row_number() OVER (ORDER BY webhook_id = $1, created_at, id) AS n FROM webhook_delivery WHERE status = 'pending') o
        WHERE d.id = o.id`,
      [a.id],
    );
    const order = async (webhookId: string): Promise<string[]> =>
      (await dataSource.query(`SELECT id FROM webhook_delivery WHERE webhook_id = $1 AND status = 'pending' ORDER BY next_attempt_at`, [webhookId])).map(
        (r: { id: string }) => r.id,
      );
    const [first, ...rest] = await order(a.id);
    await dataSource.query(`UPDATE webhook_delivery SET leased_by = 'w1', lease_expires_at = now() + interval '1 minute' WHERE id = $1`, [first]);
    const leased = { id: first, webhookId: a.id, webhook: { projectId: project.id, url: a.url }, eventId: '', trigger: WebhookTrigger.DOCUMENT_CREATE, kind: 'EVENT', attempts: 0, body: '{}' };
    const [eventId] = (await dataSource.query(`SELECT event_id FROM webhook_delivery WHERE id = $1`, [first])).map((r: { event_id: string }) => r.event_id);
    return { a, b, leased: { ...leased, eventId } as unknown as Awaited<ReturnType<typeof leasedDelivery>>, rest };
  }

  const settle = (id: string) => ({ id, workerId: 'w1', status: DeliveryStatus.SUCCEEDED, retryInMs: null });

  it("leases the same webhook's oldest due delivery, with fresh webhook columns, and nothing of other webhooks", async () => {
    const { a, leased, rest } = await backlog(3);
    await dataSource.query(`UPDATE webhook SET url = 'http://127.0.0.1:9/a-moved' WHERE id = $1`, [a.id]);
    const { settled, next } = await recordAttempt(dataSource, row(leased), settle(leased.id), { leaseMs: 60_000, inFlightIds: [] });
    expect(settled).toBe(true);
    expect(next).toMatchObject({ id: rest[0], webhookId: a.id, kind: 'EVENT', attempts: 0 });
    expect(next!.webhook).toMatchObject({ id: a.id, url: 'http://127.0.0.1:9/a-moved', signingSecret: a.signingSecret, headers: [] });
    expect(JSON.parse(next!.body)).toMatchObject({ event_id: next!.eventId });
    const leasedNow = await dataSource.query(
      `SELECT id FROM webhook_delivery WHERE status = 'pending' AND leased_by = 'w1' AND lease_expires_at > now() + interval '50 seconds'`,
    );
    expect(leasedNow.map((r: { id: string }) => r.id)).toEqual([rest[0]]);
  });

  it('hands over nothing when not asked, when the lease was lost, for deliveries in flight, or for a disabled webhook', async () => {
    const { a, leased, rest } = await backlog(3);
    expect((await recordAttempt(dataSource, row(leased), settle(leased.id))).next).toBeNull();
    // Settled, and its backlog left for a claim.
    expect(await dataSource.query(`SELECT count(*)::int AS n FROM webhook_delivery WHERE webhook_id = $1 AND leased_by IS NOT NULL`, [a.id])).toEqual([{ n: 0 }]);
    expect(await dataSource.query(`SELECT count(*)::int AS n FROM webhook_delivery WHERE id = ANY($1) AND status = 'pending'`, [rest])).toEqual([{ n: 2 }]);

    const second = await backlog(3);
    const lost = await recordAttempt(dataSource, row(second.leased), { ...settle(second.leased.id), workerId: 'w2' }, { leaseMs: 60_000, inFlightIds: [] });
    expect(lost).toMatchObject({ settled: false, next: null });

    const third = await backlog(3);
    const skipped = await recordAttempt(dataSource, row(third.leased), settle(third.leased.id), { leaseMs: 60_000, inFlightIds: [third.rest[0]] });
    expect(skipped.next?.id).toBe(third.rest[1]);

    const fourth = await backlog(2);
    await dataSource.query(`UPDATE webhook SET enabled = false WHERE id = $1`, [fourth.a.id]);
    const paused = await recordAttempt(dataSource, row(fourth.leased), settle(fourth.leased.id), { leaseMs: 60_000, inFlightIds: [] });
    expect(paused).toMatchObject({ settled: true, next: null });

  });
});
