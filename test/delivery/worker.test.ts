import type { DataSource } from 'typeorm';
import { Document } from '../../src/cms/document.entity';
import type { Config } from '../../src/config/config';
import { createDataSource } from '../../src/db/data-source';
import { Delivery, DeliveryStatus } from '../../src/delivery/delivery.entity';
import { dispatchPendingEvents } from '../../src/delivery/fanout.service';
import { createWebhookSender, startDeliveryWorker, type DeliveryWorker } from '../../src/delivery/delivery.worker';
import type { HttpSender } from '../../src/delivery/http-sender';
import { WebhookCall } from '../../src/webhook-calls/webhook-call.entity';
import { WebhookTrigger } from '../../src/webhooks/triggers';
import { Webhook } from '../../src/webhooks/webhook.entity';
import { testWebhookConfig } from '../support/config';
import { createTestDatabase } from '../support/database';
import { captureLog, createFixture, createWebhook } from '../support/fixtures';
import { Receiver, Reply, ReplyFunction, startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';

let dataSource: DataSource;
let url: string;
const workers: DeliveryWorker[] = [];
const extraDataSources: DataSource[] = [];
const receivers: Receiver[] = [];
const logged = captureLog();

beforeAll(async () => {
  ({ dataSource, url } = await createTestDatabase('worker'));
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop(500)));
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await Promise.all(extraDataSources.map((ds) => ds.destroy()));
  await dataSource?.destroy();
});

function startWorker(overrides: Partial<Config['webhook']> = {}, extra: { dataSource?: DataSource; workerId?: string; sender?: HttpSender } = {}): DeliveryWorker {
  const worker = startDeliveryWorker({
    dataSource: extra.dataSource ?? dataSource,
    databaseUrl: url,
    config: testWebhookConfig(overrides),
    log: logged.log,
    workerId: extra.workerId,
    sender: extra.sender,
  });
  workers.push(worker);
  return worker;
}

async function receiver(reply?: ReplyFunction): Promise<Receiver> {
  const r = await startReceiver(reply);
  receivers.push(r);
  return r;
}

/** A reply held until `release()`: a slow endpoint whose pace the test controls. */
function gate(reply: Reply = { status: 204 }) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { reply: () => opened.then(() => reply), release: () => open() };
}

async function createDocuments(projectId: string, blueprintId: string, count: number): Promise<void> {
  await dataSource.transaction(async (m) => {
    // One save per document: saving an array runs the subscriber's afterInsert hooks
    // concurrently on the transaction's single connection (a pg deprecation warning).
    for (let i = 0; i < count; i++) await m.save(Document, m.create(Document, { projectId, blueprintId, title: `doc ${i}` }));
  });
}

const deliveries = (webhookId: string) => dataSource.getRepository(Delivery).findBy({ webhookId });

describe('delivery worker', () => {
  it('does not let a slow endpoint delay a fast one', async () => {
    startWorker({ concurrency: 8, perWebhookConcurrency: 4 });
    const held = gate();
    const slow = await receiver(held.reply);
    const fast = await receiver();
    const { project, blueprint } = await createFixture(dataSource);
    const triggers = [WebhookTrigger.DOCUMENT_CREATE];
    await createWebhook(dataSource, { projectId: project.id, url: slow.url, triggers });
    await createWebhook(dataSource, { projectId: project.id, url: fast.url, triggers });

    await createDocuments(project.id, blueprint.id, 20);
    // All 20 reach the fast receiver while the slow one holds its 4 slots.
    await fast.waitForCount(20);
    await slow.waitForCount(4);
    expect(slow.requests).toHaveLength(4);

    held.release();
    await slow.waitForCount(20);
    expect(new Set(slow.requests.map((r) => r.headers['webhook-id'])).size).toBe(20);
  });

  it('hands a freed slot to the same webhook only while a slot is idle, so a backlog cannot starve others', async () => {
    const order: string[] = [];
    const r = await receiver((req) => {
      order.push(req.path.slice(-1));
      return { status: 204 };
    });
    const { project, blueprint } = await createFixture(dataSource);
    const triggers = [WebhookTrigger.DOCUMENT_CREATE];
    const a = await createWebhook(dataSource, { projectId: project.id, url: r.url.replace(/hook$/, 'a'), triggers });
    const b = await createWebhook(dataSource, { projectId: project.id, url: r.url.replace(/hook$/, 'b'), triggers });
    await createDocuments(project.id, blueprint.id, 3);
    while ((await dispatchPendingEvents(dataSource)) > 0);
    // Due one second apart, alternating: a, b, a, b, a, b.
    await dataSource.query(
      `UPDATE webhook_delivery d SET next_attempt_at = now() - interval '1 minute' + n * interval '1 second'
         FROM (SELECT id, row_number() OVER (PARTITION BY webhook_id ORDER BY created_at, id) * 2 - (webhook_id = $1)::int AS n
                 FROM webhook_delivery WHERE webhook_id IN ($1, $2)) o
        WHERE d.id = o.id`,
      [a.id, b.id],
    );
    // One slot: every finished attempt leaves no slot idle, so each next one is claimed, oldest first.
    startWorker({ concurrency: 1, perWebhookConcurrency: 4 });
    await r.waitForCount(6);
    expect(order).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
  });

  it('delivers a burst through two workers with none lost and none twice', async () => {
    const second = createDataSource(url, { poolSize: 10 });
    await second.initialize();
    extraDataSources.push(second);
    const sends = new Map<string, number>();
    const counting = (name: string): HttpSender => {
      const inner = createWebhookSender(testWebhookConfig());
      return {
        send: (request) => {
          sends.set(name, (sends.get(name) ?? 0) + 1);
          return inner.send(request);
        },
        close: () => inner.close(),
      };
    };
    const senders = [counting('a'), counting('b')];
    startWorker({ perWebhookConcurrency: 8 }, { workerId: 'worker-a', sender: senders[0] });
    startWorker({ perWebhookConcurrency: 8 }, { workerId: 'worker-b', sender: senders[1], dataSource: second });

    const hooksA = await receiver();
    const hooksB = await receiver();
    const { project, blueprint } = await createFixture(dataSource);
    const triggers = [WebhookTrigger.DOCUMENT_CREATE];
    const webhookA = await createWebhook(dataSource, { projectId: project.id, url: hooksA.url, triggers });
    const webhookB = await createWebhook(dataSource, { projectId: project.id, url: hooksB.url, triggers });

    await createDocuments(project.id, blueprint.id, 300);
    await hooksA.waitForCount(300, 30_000);
    await hooksB.waitForCount(300, 30_000);
    await waitUntil('all deliveries settled', async () => {
      const [{ n }] = await dataSource.query(
        `SELECT count(*)::int AS n FROM webhook_delivery WHERE webhook_id = ANY($1) AND status = 'succeeded'`,
        [[webhookA.id, webhookB.id]],
      );
      return n === 600;
    }, 30_000);

    for (const [hooks, webhook] of [[hooksA, webhookA], [hooksB, webhookB]] as const) {
      expect(hooks.requests).toHaveLength(300);
      expect(new Set(hooks.requests.map((r) => r.headers['webhook-id'])).size).toBe(300);
      const rows = await deliveries(webhook.id);
      expect(rows.every((d) => d.attempts === 1 && d.leasedBy === null)).toBe(true);
      expect(await dataSource.getRepository(WebhookCall).countBy({ webhookId: webhook.id })).toBe(300);
    }
    expect(sends.get('a')! + sends.get('b')!).toBe(600);
    expect(sends.get('a')).toBeGreaterThan(0);
    expect(sends.get('b')).toBeGreaterThan(0);
    await Promise.all(workers.splice(0).map((w) => w.stop(500)));
    senders.forEach((s) => s.close());
  }, 120_000);

  it('stop() hands leases of attempts still in flight back, and another worker finishes them', async () => {
    const held = gate();
    const hooks = await receiver(held.reply);
    const first = startWorker({}, { workerId: 'leaving' });
    const { project, blueprint } = await createFixture(dataSource);
    const webhook = await createWebhook(dataSource, { projectId: project.id, url: hooks.url, triggers: [WebhookTrigger.DOCUMENT_CREATE] });
    await createDocuments(project.id, blueprint.id, 1);
    await hooks.waitForCount(1);
    expect((await deliveries(webhook.id))[0]).toMatchObject({ leasedBy: 'leaving', status: DeliveryStatus.PENDING });

    await first.stop(100);
    const [released] = await deliveries(webhook.id);
    expect(released).toMatchObject({ leasedBy: null, leaseExpiresAt: null, status: DeliveryStatus.PENDING });
    expect(logged.lines.some((l) => l.includes('released 1 lease'))).toBe(true);

    held.release();
    startWorker({}, { workerId: 'taking-over' });
    await hooks.waitForCount(2);
    expect(hooks.requests[1].headers['webhook-id']).toBe(hooks.requests[0].headers['webhook-id']);
    await waitUntil('delivery succeeded', async () => (await deliveries(webhook.id))[0].status === DeliveryStatus.SUCCEEDED);
  });

  it('keeps deliveries of a disabled webhook pending and resumes them when it is enabled again', async () => {
    const worker = startWorker({ retryScheduleMs: [50, 50] });
    let webhook!: Webhook;
    // The webhook is disabled while its first attempt is still waiting for the answer, so
    // the retry is scheduled for a webhook that is already disabled (no race with the timer).
    const paused = await receiver(async (_, i) => {
      if (i > 0) return { status: 204 };
      await dataSource.getRepository(Webhook).update(webhook.id, { enabled: false });
      return { status: 500 };
    });
    const other = await receiver();
    const { project, blueprint } = await createFixture(dataSource);
    const triggers = [WebhookTrigger.DOCUMENT_CREATE];
    webhook = await createWebhook(dataSource, { projectId: project.id, url: paused.url, triggers });
    await createDocuments(project.id, blueprint.id, 1);
    await paused.waitForCount(1);
    await waitUntil('first attempt recorded', async () => (await deliveries(webhook.id))[0].attempts === 1);
    await waitUntil('retry due', async () => {
      const [{ due }] = await dataSource.query(`SELECT next_attempt_at <= now() AS due FROM webhook_delivery WHERE webhook_id = $1`, [webhook.id]);
      return due;
    });

    // A delivery to another webhook, due after the paused retry: once it is out, the retry
    // would have been claimed first had its webhook been enabled.
    const otherHook = await createWebhook(dataSource, { projectId: project.id, url: other.url, triggers });
    await createDocuments(project.id, blueprint.id, 1);
    await other.waitForCount(1);
    await waitUntil('other delivery done', async () => (await deliveries(otherHook.id))[0].status === DeliveryStatus.SUCCEEDED);
    expect(paused.requests).toHaveLength(1);
    expect((await deliveries(webhook.id))[0]).toMatchObject({ status: DeliveryStatus.PENDING, attempts: 1 });

    await dataSource.getRepository(Webhook).update(webhook.id, { enabled: true });
    worker.wake(); // in production the next poll finds it; the test does not wait a minute for that
    await paused.waitForCount(2);
    await waitUntil('resumed delivery succeeded', async () => (await deliveries(webhook.id))[0].status === DeliveryStatus.SUCCEEDED);
  });

  it('reconnects its listener after the connection drops and keeps delivering promptly', async () => {
    const worker = startWorker();
    const hooks = await receiver();
    const { project, blueprint } = await createFixture(dataSource);
    await createWebhook(dataSource, { projectId: project.id, url: hooks.url, triggers: [WebhookTrigger.DOCUMENT_CREATE] });
    await worker.ready;
    // Listeners of workers stopped by earlier tests may take a moment to leave pg_stat_activity.
    await waitUntil('only this worker listening', async () => (await listeners()).length === 1);
    const [before] = await listeners();
    const mark = logged.lines.length;
    await dataSource.query(`SELECT pg_terminate_backend($1)`, [before]);
    await waitUntil('listener reconnected', async () => {
      const now = await listeners();
      return now.length === 1 && now[0] !== before;
    });
    await createDocuments(project.id, blueprint.id, 1);
    await hooks.waitForCount(1, 5_000); // far sooner than the one-minute poll
    expect(logged.lines.slice(mark).some((l) => l.includes('LISTEN connection restored'))).toBe(true);
  });
});

async function listeners(): Promise<number[]> {
  const rows: Array<{ pid: number }> = await dataSource.query(
    `SELECT pid FROM pg_stat_activity WHERE application_name = 'cms-webhooks-listener' AND datname = current_database()`,
  );
  return rows.map((r) => r.pid);
}
