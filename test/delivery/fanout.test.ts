import type { DataSource } from 'typeorm';
import { Blueprint } from '../../src/cms/blueprint.entity';
import { Document } from '../../src/cms/document.entity';
import { Delivery, WebhookCallKind } from '../../src/delivery/delivery.entity';
import { dispatchPendingEvents, fanOut } from '../../src/delivery/fanout.service';
import { WebhookTrigger } from '../../src/webhooks/triggers';
import { createTestDatabase } from '../support/database';
import { asUser, createFixture, createWebhook } from '../support/fixtures';
import { assertValidPayload } from './contract';

let dataSource: DataSource;

beforeAll(async () => {
  ({ dataSource } = await createTestDatabase('fanout'));
});

afterAll(async () => {
  await dataSource?.destroy();
});

async function undispatched(): Promise<number> {
  const [{ n }] = await dataSource.query(`SELECT count(*)::int AS n FROM domain_event WHERE dispatched_at IS NULL`);
  return n;
}

describe('dispatchPendingEvents', () => {
  it('creates one delivery per matching (event, webhook), in batches, and marks events dispatched', async () => {
    await dispatchPendingEvents(dataSource); // events of other fixtures, if any
    const { project, user, blueprint } = await createFixture(dataSource);
    const other = await asUser(dataSource, user.id, (m) =>
      m.save(Blueprint, m.create(Blueprint, { projectId: project.id, name: 'Other', apiName: 'other', fields: [] })),
    );
    // Fan out the blueprint events now: an event pending when a webhook is created goes to it too.
    await dispatchPendingEvents(dataSource);
    const all = await createWebhook(dataSource, { projectId: project.id, url: 'http://127.0.0.1:9/a' });
    const creates = await createWebhook(dataSource, { projectId: project.id, url: 'http://127.0.0.1:9/b', triggers: [WebhookTrigger.DOCUMENT_CREATE] });
    const filtered = await createWebhook(dataSource, { projectId: project.id, url: 'http://127.0.0.1:9/c', blueprintIds: [other.id] });
    const disabled = await createWebhook(dataSource, { projectId: project.id, url: 'http://127.0.0.1:9/d', enabled: false });

    await asUser(dataSource, user.id, async (m) => {
      for (let i = 0; i < 5; i++) await m.save(Document, m.create(Document, { projectId: project.id, blueprintId: blueprint.id, title: `d${i}` }));
      await m.save(Document, m.create(Document, { projectId: project.id, blueprintId: other.id, title: 'other' }));
    });
    expect(await undispatched()).toBe(6);

    // Batches of 4: two rounds, then nothing.
    expect(await dispatchPendingEvents(dataSource, 4)).toBe(4);
    expect(await dispatchPendingEvents(dataSource, 4)).toBe(2);
    expect(await dispatchPendingEvents(dataSource, 4)).toBe(0);
    expect(await undispatched()).toBe(0);

    const deliveries = await dataSource.getRepository(Delivery).findBy({ projectId: project.id });
    const count = (webhookId: string) => deliveries.filter((d) => d.webhookId === webhookId).length;
    expect(count(all.id)).toBe(6);
    expect(count(creates.id)).toBe(6);
    expect(count(filtered.id)).toBe(1);
    expect(count(disabled.id)).toBe(0);
    for (const delivery of deliveries) {
      expect(delivery.kind).toBe(WebhookCallKind.EVENT);
      assertValidPayload(delivery.body);
      const body = JSON.parse(delivery.body);
      expect(body.event_id).toBe(delivery.eventId);
      expect(body.webhook.webhook_id).toBe(delivery.webhookId);
      expect(body.metadata.triggered_user_id).toBe(user.id);
    }
  });

  it('is harmless to run again over events already fanned out', async () => {
    const { project, blueprint } = await createFixture(dataSource);
    await dispatchPendingEvents(dataSource);
    const webhook = await createWebhook(dataSource, { projectId: project.id, url: 'http://127.0.0.1:9/a' });
    await dataSource.transaction((m) => m.save(Document, m.create(Document, { projectId: project.id, blueprintId: blueprint.id })));
    await dispatchPendingEvents(dataSource);
    const before = await dataSource.getRepository(Delivery).countBy({ webhookId: webhook.id });
    expect(before).toBe(1);

    await dataSource.query(`UPDATE domain_event SET dispatched_at = NULL WHERE project_id = $1 AND trigger = 'document_create'`, [project.id]);
    expect(await dispatchPendingEvents(dataSource)).toBeGreaterThanOrEqual(1);
    expect(await dataSource.getRepository(Delivery).countBy({ webhookId: webhook.id })).toBe(1);
  });

  it('lets concurrent dispatchers share the work without taking an event twice', async () => {
    const { project, blueprint } = await createFixture(dataSource);
    const webhook = await createWebhook(dataSource, { projectId: project.id, url: 'http://127.0.0.1:9/a', triggers: [WebhookTrigger.DOCUMENT_CREATE] });
    await dataSource.transaction(async (m) => {
      // One save per document: saving an array fires the subscriber's hooks concurrently on one connection.
      for (let i = 0; i < 120; i++) await m.save(Document, m.create(Document, { projectId: project.id, blueprintId: blueprint.id, title: `n${i}` }));
    });
    const counts = await Promise.all([0, 1, 2].map(async () => {
      let total = 0;
      for (let n; (n = await dispatchPendingEvents(dataSource, 10)) > 0; ) total += n;
      return total;
    }));
    expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(120);
    expect(await dataSource.getRepository(Delivery).countBy({ webhookId: webhook.id })).toBe(120);
    expect(await undispatched()).toBe(0);
  });

  it("skips events another worker is fanning out, and takes them over once that worker's lease runs out", async () => {
    const { project, blueprint } = await createFixture(dataSource);
    await dispatchPendingEvents(dataSource);
    const webhook = await createWebhook(dataSource, { projectId: project.id, url: 'http://127.0.0.1:9/a', triggers: [WebhookTrigger.DOCUMENT_CREATE] });
    await dataSource.transaction((m) => m.save(Document, m.create(Document, { projectId: project.id, blueprintId: blueprint.id })));
    // A worker leased it, then died before queueing anything.
    await dataSource.query(`UPDATE domain_event SET fanout_lease_until = now() + interval '1 minute' WHERE dispatched_at IS NULL`);
    expect(await dispatchPendingEvents(dataSource)).toBe(0);
    expect(await undispatched()).toBe(1);
    await dataSource.query(`UPDATE domain_event SET fanout_lease_until = now() - interval '1 second' WHERE dispatched_at IS NULL`);
    expect(await dispatchPendingEvents(dataSource)).toBe(1);
    expect(await dataSource.getRepository(Delivery).countBy({ webhookId: webhook.id })).toBe(1);
    expect(await dataSource.query(`SELECT count(*)::int AS n FROM domain_event WHERE project_id = $1 AND fanout_lease_until IS NOT NULL`, [project.id])).toEqual([{ n: 0 }]);
  });

  it('leases to the fanning-out worker what its plan has room for, born claimed, with what an attempt needs', async () => {
    const { project, blueprint } = await createFixture(dataSource);
    await dispatchPendingEvents(dataSource);
    const triggers = [WebhookTrigger.DOCUMENT_CREATE];
    const a = await createWebhook(dataSource, { projectId: project.id, url: 'http://127.0.0.1:9/a', triggers });
    const b = await createWebhook(dataSource, { projectId: project.id, url: 'http://127.0.0.1:9/b', triggers });
    await dataSource.transaction(async (m) => {
      for (let i = 0; i < 3; i++) await m.save(Document, m.create(Document, { projectId: project.id, blueprintId: blueprint.id }));
    });
    const planned: string[][] = [];
    // Room for webhook a only, two of them.
    const plan = (ids: readonly string[]) => {
      planned.push([...ids]);
      let left = 2;
      return ids.map((id) => id === a.id && left-- > 0);
    };
    const { events, taken } = await fanOut(dataSource, 500, 30_000, { workerId: 'w-fan', leaseMs: 60_000, plan });
    expect(events).toBe(3);
    expect(planned[0].filter((id) => id === a.id)).toHaveLength(3);
    expect(taken).toHaveLength(2);
    for (const d of taken) {
      expect(d).toMatchObject({ webhookId: a.id, kind: 'EVENT', attempts: 0, trigger: WebhookTrigger.DOCUMENT_CREATE });
      expect(d.webhook).toMatchObject({ id: a.id, projectId: project.id, url: a.url, method: 'POST', signingSecret: a.signingSecret, headers: [] });
      expect(JSON.parse(d.body)).toMatchObject({ event_id: d.eventId, webhook: { webhook_id: a.id } });
    }
    const rows = await dataSource.query(`SELECT id, webhook_id, leased_by FROM webhook_delivery WHERE webhook_id = ANY($1)`, [[a.id, b.id]]);
    expect(rows).toHaveLength(6);
    expect(rows.filter((r: { leased_by: string | null }) => r.leased_by === 'w-fan').map((r: { id: string }) => r.id).sort()).toEqual(taken.map((d) => d.id).sort());
    // Fanned out again (a manual reset): nothing new is queued, so nothing is leased.
    await dataSource.query(`UPDATE domain_event SET dispatched_at = NULL WHERE project_id = $1`, [project.id]);
    expect((await fanOut(dataSource, 500, 30_000, { workerId: 'w-fan', leaseMs: 60_000, plan: (ids) => ids.map(() => true) })).taken).toEqual([]);
  });
});
