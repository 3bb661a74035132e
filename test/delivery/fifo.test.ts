import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Actor } from '../../src/auth/actor';
import { ok, startTestApi, TestApi } from '../support/api';
import { startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';
import { collapseRetries, documentIdOf, documentsInEventOrder, OrderedReceiver, startOrderedReceiver } from './fifo-support';

/**
 * FIFO webhooks end to end in one process: a real worker, real PostgreSQL, loopback receivers.
 * Retries come 50 ms apart (the test environment's schedule: 3 attempts).
 */
const TOKEN = `fifo-admin-${crypto.randomBytes(12).toString('hex')}`;
let api: TestApi;
let db: DataSource;
let actor: Actor;
let projectId: string;
const open: OrderedReceiver[] = [];
const hooks: string[] = [];

beforeAll(async () => {
  api = await startTestApi({ BOOTSTRAP_ADMIN_TOKEN: TOKEN, DELIVERY_THREAD: 'off', WEBHOOK_RETRY_SCHEDULE: '50ms,50ms' });
  db = api.app.dataSource;
  actor = (await api.app.services.identity.authenticate(TOKEN))!;
  projectId = ok(await api.op(TOKEN, 'CreateProject', { input: { name: 'fifo' } }), 'CreateProject').createProject.id;
}, 60_000);

afterEach(async () => {
  // Later tests' events are not their business.
  for (const id of hooks.splice(0)) ok(await api.op(TOKEN, 'UpdateWebhook', { id, input: { enabled: false } }), 'UpdateWebhook');
  await Promise.all(open.splice(0).map((r) => r.close()));
});

afterAll(async () => {
  await api?.close();
});

async function blueprint(name: string): Promise<string> {
  return ok(await api.op(TOKEN, 'CreateBlueprint', { projectId, input: { name } }), 'CreateBlueprint').createBlueprint.id;
}

async function webhook(url: string, blueprintId: string, fifo: boolean): Promise<string> {
  const input = { name: `w-${crypto.randomUUID()}`, url, triggers: ['DOCUMENT_CREATE'], blueprintIds: [blueprintId], fifo };
  const created = ok(await api.gql(TOKEN, `mutation($p: ID!, $i: WebhookInput!) { createWebhook(projectId: $p, input: $i) { id fifo } }`, { p: projectId, i: input }), 'createWebhook');
  expect(created.createWebhook.fifo).toBe(fifo);
  hooks.push(created.createWebhook.id);
  return created.createWebhook.id;
}

async function receiver(fail?: (id: string, earlier: number) => boolean): Promise<OrderedReceiver> {
  const r = await startOrderedReceiver(fail);
  open.push(r);
  return r;
}

/** Saves `count` documents, `concurrency` transactions at a time, so commits interleave. */
async function burst(blueprintId: string, count: number, concurrency = 4): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1;
        await api.app.services.documents.create(actor, projectId, { blueprintId, title: `d${next}` });
      }
    }),
  );
}

describe('FIFO webhooks', () => {
  test('deliver one at a time in event order; a failing delivery holds the rest until it succeeds; a non-FIFO webhook beside it stays concurrent', async () => {
    const bp = await blueprint('Ordered');
    let second: string | undefined;
    const fifo = await receiver((id) => {
      // The second event to arrive fails twice, then succeeds on its third (last) attempt.
      const distinct = collapseRetries(fifo.arrivals());
      if (distinct.length === 2 && second === undefined) second = id;
      return id === second && fifo.arrivals().filter((a) => a === id).length <= 2;
    });
    // The non-FIFO receiver answers only once two of its requests are open at once, or all arrived.
    const releases: Array<() => void> = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const parallel = await startReceiver(async () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (inFlight >= 2 || parallel.requests.length >= 20) releases.splice(0).forEach((release) => release());
      else await new Promise<void>((resolve) => releases.push(resolve));
      inFlight -= 1;
      return { status: 204 };
    });
    open.push({ receiver: parallel, maxInFlight: () => maxInFlight, arrivals: () => parallel.requests.map(documentIdOf), close: () => parallel.close() });
    await webhook(fifo.receiver.url, bp, true);
    await webhook(parallel.url, bp, false);

    await burst(bp, 20);
    const expected = await documentsInEventOrder(db, projectId, bp);
    expect(expected).toHaveLength(20);
    await fifo.receiver.waitUntil('every event on the FIFO webhook', () => new Set(fifo.arrivals()).size === 20, 30_000);
    await parallel.waitUntil('every event on the other webhook', (r) => new Set(r.map(documentIdOf)).size === 20, 30_000);

    expect(second).toBe(expected[1]);
    expect(fifo.arrivals().filter((id) => id === second)).toHaveLength(3);
    expect(collapseRetries(fifo.arrivals())).toEqual(expected);
    expect(fifo.arrivals()).toHaveLength(22);
    expect(fifo.maxInFlight()).toBe(1);
    expect(maxInFlight).toBeGreaterThanOrEqual(2);
  }, 60_000);

  test('a delivery given up releases the ones behind it', async () => {
    const bp = await blueprint('GiveUp');
    let third: string | undefined;
    // The third event to arrive fails every attempt (three) and is given up.
    const fifo = await receiver((id) => {
      if (third === undefined && collapseRetries(fifo.arrivals()).length === 3) third = id;
      return id === third;
    });
    const webhookId = await webhook(fifo.receiver.url, bp, true);
    await burst(bp, 6);
    const expected = await documentsInEventOrder(db, projectId, bp);
    expect(expected).toHaveLength(6);

    await fifo.receiver.waitUntil('every event', () => new Set(fifo.arrivals()).size === 6, 30_000);
    expect(third).toBe(expected[2]);
    expect(fifo.arrivals()).toEqual([expected[0], expected[1], expected[2], expected[2], expected[2], expected[3], expected[4], expected[5]]);
    expect(fifo.maxInFlight()).toBe(1);
    await waitUntil('every outcome written', async () =>
      (await db.query(`SELECT count(*)::int AS n FROM webhook_delivery WHERE webhook_id = $1 AND status = 'pending'`, [webhookId]))[0].n === 0,
    );
    const statuses = await db.query(`SELECT status FROM webhook_delivery WHERE webhook_id = $1 ORDER BY event_tx_id, event_seq`, [webhookId]);
    expect(statuses.map((s: { status: string }) => s.status)).toEqual(['succeeded', 'succeeded', 'failed', 'succeeded', 'succeeded', 'succeeded']);
  }, 60_000);
  test('a disabled webhook pauses its line; enabled again, it goes on in order', async () => {
    const bp = await blueprint('Paused');
    const held: Array<() => void> = [];
    const paused = await startReceiver((_request, index) => (index === 0 ? new Promise((resolve) => held.push(() => resolve({ status: 204 }))) : { status: 204 }));
    open.push({ receiver: paused, maxInFlight: () => 0, arrivals: () => paused.requests.map(documentIdOf), close: () => paused.close() });
    const webhookId = await webhook(paused.url, bp, true);
    await burst(bp, 4);
    const expected = await documentsInEventOrder(db, projectId, bp);
    await paused.waitUntil('the first request, held', (r) => r.length === 1, 30_000);
    ok(await api.op(TOKEN, 'UpdateWebhook', { id: webhookId, input: { enabled: false } }), 'disable');
    held.splice(0).forEach((release) => release());
    await waitUntil('the first outcome written', async () =>
      (await db.query(`SELECT count(*)::int AS n FROM webhook_delivery WHERE webhook_id = $1 AND status = 'succeeded'`, [webhookId]))[0].n === 1,
    );
    const enabledAt = Date.now();
    ok(await api.op(TOKEN, 'UpdateWebhook', { id: webhookId, input: { enabled: true } }), 'enable');
    await paused.waitUntil('every event', (r) => r.length === 4, 30_000);
    expect(paused.requests.map(documentIdOf)).toEqual(expected);
    // Nothing went out while it was disabled.
    expect(paused.requests[1].at).toBeGreaterThanOrEqual(enabledAt);
  }, 60_000);

  test('an event whose transaction commits after a later one is still delivered first', async () => {
    const bp = await blueprint('Gap');
    const fifo = await receiver();
    const plain = await receiver();
    await webhook(fifo.receiver.url, bp, true);
    await webhook(plain.receiver.url, bp, false);

    // Event A is written first (its transaction takes the earlier id) but commits last.
    const early = db.createQueryRunner();
    await early.connect();
    const documentA = crypto.randomUUID();
    try {
      await early.startTransaction();
      await early.query(
        `INSERT INTO domain_event (project_id, trigger, blueprint_id, metadata) VALUES ($1, 'document_create', $2, $3)`,
        [projectId, bp, JSON.stringify({ blueprint_id: bp, document_id: documentA, document_status_id: null, created_at: new Date().toISOString() })],
      );
      const documentB = (await api.app.services.documents.create(actor, projectId, { blueprintId: bp, title: 'later' })).id;
      // B is fanned out and sent where order does not matter...
      await plain.receiver.waitUntil('B on the other webhook', (r) => r.length === 1, 30_000);
      // ...and for a while (an observation window, not a wait for a condition) not on the FIFO one.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(fifo.arrivals()).toEqual([]);
      await early.commitTransaction();

      await fifo.receiver.waitUntil('A and B', (r) => r.length === 2, 30_000);
      expect(fifo.arrivals()).toEqual([documentA, documentB]);
      expect(await documentsInEventOrder(db, projectId, bp)).toEqual([documentA, documentB]);
    } finally {
      if (early.isTransactionActive) await early.rollbackTransaction();
      await early.release();
    }
  }, 60_000);
});

describe('recoverWebhook on a FIFO webhook', () => {
  let slow: TestApi;
  afterAll(async () => {
    await slow?.close();
  });

  test('retries the failing head now, so the line moves as soon as the receiver works', async () => {
    // An hour between attempts: without recovery the second event would wait that long.
    slow = await startTestApi({ BOOTSTRAP_ADMIN_TOKEN: TOKEN, DELIVERY_THREAD: 'off', WEBHOOK_RETRY_SCHEDULE: '1h,1h' });
    const slowActor = (await slow.app.services.identity.authenticate(TOKEN))!;
    const project = ok(await slow.op(TOKEN, 'CreateProject', { input: { name: 'recover' } }), 'CreateProject').createProject.id;
    const bp = ok(await slow.op(TOKEN, 'CreateBlueprint', { projectId: project, input: { name: 'Post' } }), 'CreateBlueprint').createBlueprint.id;
    let broken = true;
    const fifo = await receiver(() => broken);
    const input = { name: 'ordered', url: fifo.receiver.url, triggers: ['DOCUMENT_CREATE'], fifo: true };
    const webhookId = ok(await slow.op(TOKEN, 'CreateWebhook', { projectId: project, input }), 'CreateWebhook').createWebhook.id;
    const first = (await slow.app.services.documents.create(slowActor, project, { blueprintId: bp, title: 'first' })).id;
    const second = (await slow.app.services.documents.create(slowActor, project, { blueprintId: bp, title: 'second' })).id;
    await fifo.receiver.waitUntil('the first attempt', (r) => r.length === 1, 30_000);
    await waitUntil('its failure written, a retry an hour away', async () =>
      (await slow.app.dataSource.query(`SELECT attempts FROM webhook_delivery WHERE webhook_id = $1 AND attempts = 1 AND lease_expires_at IS NULL`, [webhookId])).length === 1,
    );

    broken = false;
    const recovered = ok(
      await slow.gql(TOKEN, `mutation($id: ID!, $since: DateTime!) { recoverWebhook(id: $id, since: $since) }`, { id: webhookId, since: new Date(Date.now() - 3_600_000).toISOString() }),
      'recoverWebhook',
    );
    expect(recovered.recoverWebhook).toBe(1);
    await fifo.receiver.waitUntil('both events', (r) => r.length === 3, 30_000);
    expect(fifo.arrivals()).toEqual([first, first, second]);
    expect(fifo.maxInFlight()).toBe(1);
  }, 60_000);
});

