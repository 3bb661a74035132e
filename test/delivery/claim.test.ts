import type { DataSource } from 'typeorm';
import { Document } from '../../src/cms/document.entity';
import { claimDueDeliveries, ClaimRequest, msUntilEarliestRetry, releaseLeases } from '../../src/delivery/claim';
import { dispatchPendingEvents } from '../../src/delivery/fanout.service';
import { WebhookTrigger } from '../../src/webhooks/triggers';
import { Webhook } from '../../src/webhooks/webhook.entity';
import { createTestDatabase } from '../support/database';
import { createFixture, createWebhook } from './helpers';

let dataSource: DataSource;

beforeAll(async () => {
  ({ dataSource } = await createTestDatabase('claim'));
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
  perWebhookConcurrency: 4,
  busy: new Map(),
  inFlightIds: [],
  leaseMs: 60_000,
  workerId: 'w1',
  ...overrides,
});

describe('claimDueDeliveries', () => {
  it('keeps each webhook within its free slots and returns what an attempt needs', async () => {
    const { a, b } = await queue(6);
    const { selected, claimed } = await claimDueDeliveries(dataSource, request({ busy: new Map([[a.id, 3]]) }));
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
    const { claimed } = await claimDueDeliveries(dataSource, request({ limit: 8, busy: new Map([[a.id, 4]]) }));
    expect(claimed.map((d) => d.webhookId)).toEqual([b.id, b.id, b.id, b.id]);
  });

  it('respects the global free slots, leases, in-flight ids and disabled webhooks', async () => {
    const { a, b } = await queue(3);
    const first = await claimDueDeliveries(dataSource, request({ free: 2 }));
    expect(first.claimed).toHaveLength(2);
    // Leased rows are not claimed again, by this worker or another.
    const second = await claimDueDeliveries(dataSource, request({ workerId: 'w2' }));
    expect(second.claimed).toHaveLength(4);
    expect(new Set([...first.claimed, ...second.claimed].map((d) => d.id)).size).toBe(6);
    expect((await claimDueDeliveries(dataSource, request({ workerId: 'w3' }))).claimed).toHaveLength(0);

    // Released leases are claimable at once, except what the caller says it has in flight.
    expect(await releaseLeases(dataSource, 'w2')).toBe(4);
    const mine = second.claimed.slice(0, 1).map((d) => d.id);
    const third = await claimDueDeliveries(dataSource, request({ workerId: 'w3', inFlightIds: mine }));
    expect(third.claimed.map((d) => d.id).sort()).toEqual(second.claimed.slice(1).map((d) => d.id).sort());

    // Expired leases are claimable; deliveries of a disabled webhook are not.
    await dataSource.query(`UPDATE webhook_delivery SET lease_expires_at = now() - interval '1 second' WHERE webhook_id = ANY($1)`, [[a.id, b.id]]);
    await dataSource.getRepository(Webhook).update(b.id, { enabled: false });
    const fourth = await claimDueDeliveries(dataSource, request({ workerId: 'w4' }));
    expect(fourth.claimed.map((d) => d.webhookId)).toEqual([a.id, a.id, a.id]);
  });

  it('never hands the same row to two concurrent claims', async () => {
    await queue(50);
    const results = await Promise.all(['x', 'y', 'z'].map((workerId) => claimDueDeliveries(dataSource, request({ workerId, perWebhookConcurrency: 100, limit: 40 }))));
    const ids = results.flatMap((r) => r.claimed.map((d) => d.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeLessThanOrEqual(100);
  });
});

describe('msUntilEarliestRetry', () => {
  it('measures by the database clock and ignores due or disabled deliveries', async () => {
    const { a, b } = await queue(1);
    expect(await msUntilEarliestRetry(dataSource)).toBeNull();
    await dataSource.query(`UPDATE webhook_delivery SET next_attempt_at = now() + interval '3 seconds' WHERE webhook_id = $1`, [a.id]);
    await dataSource.query(`UPDATE webhook_delivery SET next_attempt_at = now() + interval '1 second' WHERE webhook_id = $1`, [b.id]);
    const ms = (await msUntilEarliestRetry(dataSource))!;
    expect(ms).toBeGreaterThan(500);
    expect(ms).toBeLessThanOrEqual(1_000);
    await dataSource.getRepository(Webhook).update(b.id, { enabled: false });
    expect(await msUntilEarliestRetry(dataSource)).toBeGreaterThan(1_000);
  });
});
