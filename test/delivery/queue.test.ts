import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Document } from '../../src/cms/document.entity';
import { DeliveryStatus } from '../../src/delivery/delivery.entity';
import { OutcomeWriter } from '../../src/delivery/outcome-writer';
import { type CallRow, claimDue, type ClaimRequest, msUntilNextDue, releaseLeases, settleOutcomes } from '../../src/delivery/queue';
import { WebhookCall } from '../../src/webhook-calls/webhook-call.entity';
import { dispatchPendingEvents } from '../../src/delivery/fanout.service';
import { WebhookTrigger } from '../../src/webhooks/triggers';
import { Webhook } from '../../src/webhooks/webhook.entity';
import { createTestDatabase } from '../support/database';
import { createFixture, createWebhook } from '../support/fixtures';

let dataSource: DataSource;

beforeAll(async () => {
  ({ dataSource } = await createTestDatabase('queue'));
});

afterAll(async () => {
  await dataSource?.destroy();
});

/** A fresh project whose two webhooks each have `count` due deliveries; everything older is done. */
async function queue(count: number): Promise<{ a: Webhook; b: Webhook }> {
  await dataSource.query(`UPDATE webhook_delivery SET status = 'succeeded'`);
  const { project, blueprint } = await createFixture(dataSource);
  await dispatchPendingEvents(dataSource);
  const triggers = [WebhookTrigger.DOCUMENT_CREATE];
  const a = await createWebhook(dataSource, { projectId: project.id, url: 'http://127.0.0.1:9/a', triggers });
  const b = await createWebhook(dataSource, { projectId: project.id, url: 'http://127.0.0.1:9/b', triggers });
  await dataSource.transaction(async (m) => {
    for (let i = 0; i < count; i++) await m.save(Document, m.create(Document, { projectId: project.id, blueprintId: blueprint.id }));
  });
  while ((await dispatchPendingEvents(dataSource)) > 0);
  return { a, b };
}

const request = (overrides: Partial<ClaimRequest> = {}): ClaimRequest => ({
  limit: 100,
  free: 100,
  perWebhookLimit: 4,
  busy: new Map(),
  heldIds: [],
  leaseMs: 60_000,
  workerId: 'w1',
  ...overrides,
});

describe('claimDue', () => {
  it('keeps each webhook within its free slots and returns what an attempt needs', async () => {
    const { a, b } = await queue(6);
    const { selected, claimed } = await claimDue(dataSource, request({ busy: new Map([[a.id, 3]]) }));
    expect(selected).toBe(12);
    expect(claimed.filter((d) => d.webhookId === a.id)).toHaveLength(1);
    expect(claimed.filter((d) => d.webhookId === b.id)).toHaveLength(4);
    const one = claimed.find((d) => d.webhookId === b.id)!;
    expect(one).toMatchObject({ kind: 'EVENT', trigger: WebhookTrigger.DOCUMENT_CREATE, attempts: 0 });
    expect(one.webhook).toMatchObject({ id: b.id, projectId: b.projectId, url: b.url, method: 'POST', signingSecret: b.signingSecret, headers: [] });
    const leased = await dataSource.query(`SELECT count(*)::int AS n FROM webhook_delivery WHERE leased_by = 'w1' AND lease_expires_at > now()`);
    expect(leased[0].n).toBe(5);
  });

  it('skips full webhooks before the LIMIT, so their backlog cannot hide other webhooks', async () => {
    const { a, b } = await queue(30);
    // Webhook a's 30 rows would fill a LIMIT of 8 if it were not excluded.
    const { claimed } = await claimDue(dataSource, request({ limit: 8, busy: new Map([[a.id, 4]]) }));
    expect(claimed.map((d) => d.webhookId)).toEqual([b.id, b.id, b.id, b.id]);
  });

  it('respects the global free slots, leases, in-flight ids and disabled webhooks', async () => {
    const { a, b } = await queue(3);
    const first = await claimDue(dataSource, request({ free: 2 }));
    expect(first.claimed).toHaveLength(2);
    // Leased rows are not claimed again, by this worker or another.
    const second = await claimDue(dataSource, request({ workerId: 'w2' }));
    expect(second.claimed).toHaveLength(4);
    expect(new Set([...first.claimed, ...second.claimed].map((d) => d.id)).size).toBe(6);
    expect((await claimDue(dataSource, request({ workerId: 'w3' }))).claimed).toHaveLength(0);

    // Released leases are claimable at once, except what the caller says it has in flight.
    expect(await releaseLeases(dataSource, 'w2')).toBe(4);
    const mine = second.claimed.slice(0, 1).map((d) => d.id);
    const third = await claimDue(dataSource, request({ workerId: 'w3', heldIds: mine }));
    expect(third.claimed.map((d) => d.id).sort()).toEqual(second.claimed.slice(1).map((d) => d.id).sort());

    // Expired leases are claimable; deliveries of a disabled webhook are not.
    await dataSource.query(`UPDATE webhook_delivery SET lease_expires_at = now() - interval '1 second' WHERE webhook_id = ANY($1)`, [[a.id, b.id]]);
    await dataSource.getRepository(Webhook).update(b.id, { enabled: false });
    const fourth = await claimDue(dataSource, request({ workerId: 'w4' }));
    expect(fourth.claimed.map((d) => d.webhookId)).toEqual([a.id, a.id, a.id]);
  });

  it('never hands the same row to two concurrent claims', async () => {
    await queue(50);
    const results = await Promise.all(['x', 'y', 'z'].map((workerId) => claimDue(dataSource, request({ workerId, perWebhookLimit: 100, limit: 40 }))));
    const ids = results.flatMap((r) => r.claimed.map((d) => d.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeLessThanOrEqual(100);
  });
});

describe('msUntilNextDue', () => {
  it('measures by the database clock and ignores due or disabled deliveries', async () => {
    const { a, b } = await queue(1);
    expect(await msUntilNextDue(dataSource)).toBeNull();
    await dataSource.query(`UPDATE webhook_delivery SET next_attempt_at = now() + interval '3 seconds' WHERE webhook_id = $1`, [a.id]);
    await dataSource.query(`UPDATE webhook_delivery SET next_attempt_at = now() + interval '1 second' WHERE webhook_id = $1`, [b.id]);
    const ms = (await msUntilNextDue(dataSource))!;
    expect(ms).toBeGreaterThan(500);
    expect(ms).toBeLessThanOrEqual(1_000);
    await dataSource.getRepository(Webhook).update(b.id, { enabled: false });
    expect(await msUntilNextDue(dataSource)).toBeGreaterThan(1_000);
  });
});

/** One delivery, leased by `w1`. */
async function leasedDelivery() {
  await dataSource.query(`UPDATE webhook_delivery SET status = 'succeeded'`);
  const { project, blueprint } = await createFixture(dataSource);
  const webhook = await createWebhook(dataSource, { projectId: project.id, url: 'http://127.0.0.1:9/r', triggers: [WebhookTrigger.DOCUMENT_CREATE] });
  await dataSource.manager.save(Document, dataSource.manager.create(Document, { projectId: project.id, blueprintId: blueprint.id }));
  while ((await dispatchPendingEvents(dataSource)) > 0);
  const { claimed } = await claimDue(dataSource, {
    limit: 10,
    free: 10,
    perWebhookLimit: 4,
    busy: new Map(),
    heldIds: [],
    leaseMs: 60_000,
    workerId: 'w1',
  });
  expect(claimed).toHaveLength(1);
  return claimed[0];
}

function row(d: Awaited<ReturnType<typeof leasedDelivery>>, overrides: Partial<CallRow> = {}): CallRow {
  return {
    id: randomUUID(),
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

describe('settleOutcomes', () => {
  it('settles the delivery and logs the attempt with the retry time the settle computed', async () => {
    const d = await leasedDelivery();
    const call = row(d);
    const [{ settled, nextRetryAt }] = await settleOutcomes(dataSource, [{ call, delivery: { id: d.id, workerId: 'w1', status: DeliveryStatus.PENDING, retryInMs: 60_000 } }]);
    expect(settled).toBe(true);
    const after = await deliveryRow(d.id);
    expect(after).toMatchObject({ status: 'pending', attempts: 1, leased_by: null, lease_expires_at: null });
    expect(nextRetryAt).toEqual(after.next_attempt_at);
    expect(after.next_attempt_at.getTime() - Date.now()).toBeGreaterThan(50_000);
    const stored = await dataSource.getRepository(WebhookCall).findOneByOrFail({ id: call.id });
    expect(stored.nextRetryAt).toEqual(after.next_attempt_at);
    expect(stored).toMatchObject({ attempt: 1, success: false, responseStatusCode: 503, responseBody: 'busy', deliveryId: d.id });
    expect(stored.requestHeaders).toEqual([{ name: 'x-secret', value: '••••••' }]);
  });

  it('keeps next_attempt_at and logs no retry time when the delivery is finished', async () => {
    const d = await leasedDelivery();
    const before = await deliveryRow(d.id);
    const [{ settled, nextRetryAt }] = await settleOutcomes(dataSource, [
      { call: row(d, { success: true, responseStatusCode: 204, error: null }), delivery: { id: d.id, workerId: 'w1', status: DeliveryStatus.SUCCEEDED, retryInMs: null } },
    ]);
    expect(settled).toBe(true);
    expect(nextRetryAt).toBeNull();
    expect(await deliveryRow(d.id)).toMatchObject({ status: 'succeeded', attempts: 1, next_attempt_at: before.next_attempt_at, leased_by: null });
  });

  it('logs the attempt but leaves the delivery alone when another worker holds the lease', async () => {
    const d = await leasedDelivery();
    const before = await deliveryRow(d.id);
    const call = row(d);
    const [{ settled, nextRetryAt }] = await settleOutcomes(dataSource, [{ call, delivery: { id: d.id, workerId: 'w2', status: DeliveryStatus.FAILED, retryInMs: null } }]);
    expect(settled).toBe(false);
    expect(nextRetryAt).toBeNull();
    expect(await deliveryRow(d.id)).toEqual(before);
    expect(await dataSource.getRepository(WebhookCall).countBy({ id: call.id })).toBe(1);
  });

  it('logs a replay or test send, which has no delivery', async () => {
    const d = await leasedDelivery();
    const before = await deliveryRow(d.id);
    const call = row(d, { deliveryId: null, kind: 'TEST' });
    const [written] = await settleOutcomes(dataSource, [{ call }]);
    expect(written).toMatchObject({ settled: true, nextRetryAt: null });
    expect(await dataSource.getRepository(WebhookCall).findOneByOrFail({ id: call.id })).toMatchObject({ deliveryId: null, kind: 'TEST', nextRetryAt: null, attempt: 1 });
    expect(await deliveryRow(d.id)).toEqual(before);
  });

  it('writes a batch in one statement: each row settled or fenced on its own, results in the order given', async () => {
    const d1 = await leasedDelivery();
    const d2 = await leasedDelivery();
    const d3 = await leasedDelivery();
    // Each set-up finished the deliveries before it: these three are pending and leased by w1.
    await dataSource.query(`UPDATE webhook_delivery SET status = 'pending' WHERE id = ANY($1)`, [[d1.id, d2.id, d3.id]]);
    const entries = [
      { call: row(d1), delivery: { id: d1.id, workerId: 'w1', status: DeliveryStatus.SUCCEEDED, retryInMs: null } },
      // Leased by w1: w2's outcome is logged but does not touch the delivery.
      { call: row(d2), delivery: { id: d2.id, workerId: 'w2', status: DeliveryStatus.SUCCEEDED, retryInMs: null } },
      { call: row(d3, { deliveryId: null, kind: 'REPLAY' }) },
      { call: row(d3), delivery: { id: d3.id, workerId: 'w1', status: DeliveryStatus.PENDING, retryInMs: 30_000 } },
    ];
    const results = await settleOutcomes(dataSource, entries);
    expect(results.map((r) => r.id)).toEqual(entries.map((e) => e.call.id));
    expect(results.map((r) => r.settled)).toEqual([true, false, true, true]);
    expect(results.map((r) => r.nextRetryAt === null)).toEqual([true, true, true, false]);
    expect(await deliveryRow(d1.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await deliveryRow(d2.id)).toMatchObject({ status: 'pending', attempts: 0, leased_by: 'w1' });
    expect(await deliveryRow(d3.id)).toMatchObject({ status: 'pending', attempts: 1, leased_by: null });
    expect(await dataSource.getRepository(WebhookCall).countBy({ eventId: d3.eventId })).toBe(2);
  });
});

describe('OutcomeWriter', () => {
  it('batches outcomes written together, and a row the database refuses does not take the others with it', async () => {
    const good = [await leasedDelivery(), await leasedDelivery(), await leasedDelivery()];
    const doomed = await leasedDelivery();
    await dataSource.query(`UPDATE webhook_delivery SET status = 'pending' WHERE id = ANY($1)`, [good.map((d) => d.id)]);
    const writer = new OutcomeWriter(dataSource);
    const before = writer.stats();
    const written = good.map((d) => writer.write({ call: row(d), delivery: { id: d.id, workerId: 'w1', status: DeliveryStatus.SUCCEEDED, retryInMs: null } }));
    // Its webhook is gone: the log row's foreign key fails.
    const refused = writer.write({ call: row(doomed, { webhookId: randomUUID() }) });
    await expect(refused).rejects.toMatchObject({ driverError: { code: '23503' } });
    expect((await Promise.all(written)).map((s) => s?.settled)).toEqual([true, true, true]);
    // One statement for the four, which failed, then one per row to find the bad one.
    expect(writer.stats().batches - before.batches).toBe(3);
    for (const d of good) expect(await deliveryRow(d.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    await writer.flushed();
    expect(writer.pending).toBe(0);
  });
});

describe('the log NOTIFY', () => {
  it('announces a batch of rows in one notification per 60 rows, each row once, at commit', async () => {
    const d = await leasedDelivery();
    const { Client } = await import('pg');
    const listener = new Client({ connectionString: (dataSource.options as { url: string }).url });
    await listener.connect();
    const payloads: string[] = [];
    listener.on('notification', (m) => payloads.push(m.payload ?? ''));
    try {
      await listener.query('LISTEN cms_webhook_call');
      const calls = Array.from({ length: 130 }, () => row(d, { deliveryId: null, kind: 'TEST' }));
      await settleOutcomes(dataSource, calls.map((call) => ({ call })));
      const deadline = Date.now() + 5_000;
      // A round trip reads whatever the socket holds, notifications included.
      while (payloads.length < 3 && Date.now() < deadline) await listener.query('SELECT 1');
      expect(payloads).toHaveLength(3);
      const ids = payloads.flatMap((p) => p.split(',')).map((entry) => entry.split(':')[2]);
      expect(ids.sort()).toEqual(calls.map((c) => c.id).sort());
      expect(payloads.every((p) => Buffer.byteLength(p) < 8000)).toBe(true);
    } finally {
      await listener.end();
    }
  });
});
