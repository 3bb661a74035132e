import { randomBytes } from 'node:crypto';
import { Webhook as Verifier } from 'standardwebhooks';
import type { DataSource, EntityManager } from 'typeorm';
import { Blueprint } from '../../src/cms/blueprint.entity';
import { Document, DocumentStatus } from '../../src/cms/document.entity';
import { Project } from '../../src/cms/project.entity';
import { ProjectMember } from '../../src/cms/project-member.entity';
import { ProjectRole } from '../../src/cms/roles';
import { User } from '../../src/auth/user.entity';
import type { Config } from '../../src/config/config';
import { Delivery, DeliveryStatus, WebhookCallKind } from '../../src/delivery/delivery.entity';
import { sendNow } from '../../src/delivery/attempt';
import { createWebhookSender, startDeliveryWorker, type DeliveryWorker } from '../../src/delivery/delivery.worker';
import { OutcomeWriter } from '../../src/delivery/outcome-writer';
import { samplePayloadBody } from '../../src/delivery/payload';
import { WebhookCall } from '../../src/webhook-calls/webhook-call.entity';
import { HttpMethod, WebhookTrigger } from '../../src/webhooks/triggers';
import type { Webhook } from '../../src/webhooks/webhook.entity';
import { testWebhookConfig } from '../support/config';
import { createTestDatabase } from '../support/database';
import { asUser, captureLog, createFixture, createWebhook } from '../support/fixtures';
import { ReceivedRequest, Receiver, ReplyFunction, startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';
import { assertValidPayload } from './contract';

let dataSource: DataSource;
let url: string;
let worker: DeliveryWorker | undefined;
const receivers: Receiver[] = [];
const logged = captureLog();

beforeAll(async () => {
  ({ dataSource, url } = await createTestDatabase('delivery'));
});

afterEach(async () => {
  await worker?.stop(1_000);
  worker = undefined;
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await dataSource?.destroy();
});

function startWorker(overrides: Partial<Config['webhook']> = {}): DeliveryWorker {
  worker = startDeliveryWorker({ dataSource, databaseUrl: url, config: testWebhookConfig(overrides), log: logged.log });
  return worker;
}

async function receiver(reply?: ReplyFunction): Promise<Receiver> {
  const r = await startReceiver(reply);
  receivers.push(r);
  return r;
}

function verify(webhook: Webhook, request: ReceivedRequest): void {
  expect(() => new Verifier(webhook.signingSecret).verify(request.body, request.headers)).not.toThrow();
}

async function callsOf(webhookId: string): Promise<WebhookCall[]> {
  return dataSource.getRepository(WebhookCall).find({ where: { webhookId }, order: { attempt: 'ASC', createdAt: 'ASC' } });
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('delivery of every trigger', () => {
  it('sends each of the nine triggers with the exact payload, headers and signature', async () => {
    startWorker();
    const hooks = await receiver();
    const tag = randomBytes(4).toString('hex');
    const actor = await dataSource.getRepository(User).save({ email: `actor-${tag}@example.com` });
    const member = await dataSource.getRepository(User).save({ email: `member-${tag}@example.com` });
    const project = await dataSource.getRepository(Project).save({ name: 'triggers' });
    const webhook = await createWebhook(dataSource, {
      projectId: project.id,
      url: hooks.url,
      headers: [
        { name: 'X-Tenant', value: 'acme', secret: false },
        { name: 'X-Api-Key', value: 'supersecret-key-9f3a', secret: true },
      ],
    });
    const base = { scope: { project_id: project.id }, webhook_id: webhook.id };
    let seen = 0;
    const METADATA_ORDER = ['blueprint_id', 'document_id', 'document_status_id', 'changed_fields', 'user_id', 'role', 'triggered_user_id', 'created_at'];
    /** Performs `change` as `actor` and checks the requests it causes. */
    async function expectSent(change: (m: EntityManager) => Promise<unknown>, ...expected: Array<[WebhookTrigger, Record<string, unknown>]>) {
      await asUser(dataSource, actor.id, change);
      const requests = (await hooks.waitForCount(seen + expected.length)).slice(seen);
      seen += expected.length;
      const rank = (r: ReceivedRequest) => expected.findIndex(([t]) => t === JSON.parse(r.body).webhook.trigger);
      requests.sort((a, b) => rank(a) - rank(b));
      requests.forEach((request, i) => {
        const [trigger, metadata] = expected[i];
        assertValidPayload(request.body);
        const body = JSON.parse(request.body);
        expect(body.metadata.created_at).toMatch(ISO);
        const expectedMetadata = { ...metadata, triggered_user_id: actor.id, created_at: body.metadata.created_at };
        expect(body).toEqual({
          event_id: request.headers['webhook-id'],
          metadata: expectedMetadata,
          scope: { project_id: project.id },
          webhook: { trigger, webhook_id: webhook.id },
        });
        // Key order as in the documented sample (toEqual ignores order).
        expect(Object.keys(body)).toEqual(['event_id', 'metadata', 'scope', 'webhook']);
        expect(Object.keys(body.metadata)).toEqual(METADATA_ORDER.filter((k) => k in expectedMetadata));
        expect(request.method).toBe('POST');
        expect(request.headers['content-type']).toBe('application/json');
        expect(request.headers['x-api-key']).toBe('supersecret-key-9f3a');
        const names = request.rawHeaders.filter((_, j) => j % 2 === 0).map((n) => n.toLowerCase());
        const ours = ['x-tenant', 'x-api-key', 'user-agent', 'content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature'];
        expect(names.filter((n) => ours.includes(n))).toEqual(ours);
        verify(webhook, request);
      });
    }

    let blueprint!: Blueprint;
    let document!: Document;
    const empty = { blueprint_id: '', document_id: '', document_status_id: null };
    await expectSent(
      async (m) => (blueprint = await m.save(Blueprint, m.create(Blueprint, { projectId: project.id, name: 'Post', apiName: `post_${tag}` }))),
      [WebhookTrigger.BLUEPRINT_CREATE, { ...empty, blueprint_id: expect.any(String) }],
    );
    const bp = () => ({ blueprint_id: blueprint.id });
    await expectSent(
      async (m) => m.save(Object.assign(blueprint, { name: 'Blog post' })),
      [WebhookTrigger.BLUEPRINT_UPDATE, { ...empty, ...bp() }],
    );
    await expectSent(
      async (m) => (document = await m.save(Document, m.create(Document, { projectId: project.id, blueprintId: blueprint.id, title: 'Hello', fields: { body: 'a' } }))),
      [WebhookTrigger.DOCUMENT_CREATE, { ...bp(), document_id: expect.any(String), document_status_id: 0 }],
    );
    const doc = (status: number) => ({ ...bp(), document_id: document.id, document_status_id: status });
    await expectSent(
      (m) => m.save(Object.assign(document, { title: 'Hello!', fields: { body: 'b' } })),
      [WebhookTrigger.DOCUMENT_FIELD_UPDATE, { ...doc(0), changed_fields: ['title', 'body'] }],
    );
    await expectSent(
      (m) => m.save(Object.assign(document, { statusId: DocumentStatus.PUBLISHED, publishedAt: new Date() })),
      [WebhookTrigger.DOCUMENT_UPDATE, doc(2)],
    );
    // Editing a published document makes it CHANGED: one save, both events.
    await expectSent(
      (m) => m.save(Object.assign(document, { fields: { body: 'c' }, statusId: DocumentStatus.CHANGED })),
      [WebhookTrigger.DOCUMENT_FIELD_UPDATE, { ...doc(1), changed_fields: ['body'] }],
      [WebhookTrigger.DOCUMENT_UPDATE, doc(1)],
    );
    const documentId = document.id;
    await expectSent(
      (m) => m.remove(document),
      [WebhookTrigger.DOCUMENT_DELETE, { ...bp(), document_id: documentId, document_status_id: 1 }],
    );
    const blueprintId = blueprint.id;
    await expectSent(
      (m) => m.remove(blueprint),
      [WebhookTrigger.BLUEPRINT_DELETE, { ...empty, blueprint_id: blueprintId }],
    );
    let membership!: ProjectMember;
    await expectSent(
      async (m) => (membership = await m.save(ProjectMember, m.create(ProjectMember, { projectId: project.id, userId: member.id, role: ProjectRole.EDITOR }))),
      [WebhookTrigger.PROJECT_MEMBER_ASSIGNED, { ...empty, user_id: member.id, role: 'editor' }],
    );
    await expectSent(
      (m) => m.save(Object.assign(membership, { role: ProjectRole.ADMIN })),
      [WebhookTrigger.PROJECT_MEMBER_ASSIGNED, { ...empty, user_id: member.id, role: 'admin' }],
    );
    await expectSent(
      (m) => m.remove(membership),
      [WebhookTrigger.PROJECT_MEMBER_DEASSIGNED, { ...empty, user_id: member.id, role: 'admin' }],
    );

    // The log holds exactly what was sent, secret header masked, one successful attempt each.
    await waitUntil('every attempt logged', async () => (await callsOf(webhook.id)).length === hooks.requests.length);
    const calls = await callsOf(webhook.id);
    for (const call of calls) {
      const request = hooks.requests.find((r) => r.headers['webhook-id'] === call.eventId && JSON.parse(r.body).webhook.trigger === call.trigger)!;
      expect(call).toMatchObject({ kind: WebhookCallKind.EVENT, attempt: 1, success: true, responseStatusCode: 204, requestBody: request.body, nextRetryAt: null });
      expect(call.requestHeaders.find((h) => h.name === 'X-Api-Key')!.value).toBe('••••9f3a');
      expect(JSON.stringify(call.requestHeaders)).not.toContain('supersecret');
    }
    expect(logged.lines.join('\n')).not.toContain('supersecret');
  });

  it('sends the JSON body with GET too', async () => {
    startWorker();
    const hooks = await receiver();
    const { project, blueprint } = await createFixture(dataSource);
    const webhook = await createWebhook(dataSource, { projectId: project.id, url: hooks.url, method: HttpMethod.GET, triggers: [WebhookTrigger.DOCUMENT_CREATE] });
    await dataSource.transaction((m) => m.save(Document, m.create(Document, { projectId: project.id, blueprintId: blueprint.id })));
    const [request] = await hooks.waitForCount(1);
    expect(request.method).toBe('GET');
    assertValidPayload(request.body);
    verify(webhook, request);
  });
});

describe('transactional capture', () => {
  it('sends nothing for a change that rolled back', async () => {
    startWorker();
    const hooks = await receiver();
    const { project, blueprint } = await createFixture(dataSource);
    await createWebhook(dataSource, { projectId: project.id, url: hooks.url, triggers: [WebhookTrigger.DOCUMENT_CREATE] });
    await expect(
      dataSource.transaction(async (m) => {
        await m.save(Document, m.create(Document, { projectId: project.id, blueprintId: blueprint.id, title: 'rolled back' }));
        throw new Error('abort the change');
      }),
    ).rejects.toThrow('abort the change');
    const committed = await dataSource.transaction((m) => m.save(Document, m.create(Document, { projectId: project.id, blueprintId: blueprint.id, title: 'kept' })));

    const [request] = await hooks.waitForCount(1);
    expect(JSON.parse(request.body).metadata.document_id).toBe(committed.id);
    // Events are fanned out oldest first, so once the later one is out, an earlier one would be too.
    const [{ n }] = await dataSource.query(`SELECT count(*)::int AS n FROM domain_event WHERE project_id = $1 AND trigger = 'document_create'`, [project.id]);
    expect(n).toBe(1);
    expect(await dataSource.getRepository(Delivery).countBy({ projectId: project.id })).toBe(1);
    expect(hooks.requests).toHaveLength(1);
  });
});

describe('retries', () => {
  async function oneDocumentEvent(reply: ReplyFunction, overrides: Partial<Config['webhook']> = {}) {
    startWorker(overrides);
    const hooks = await receiver(reply);
    const { project, blueprint } = await createFixture(dataSource);
    const webhook = await createWebhook(dataSource, { projectId: project.id, url: hooks.url, triggers: [WebhookTrigger.DOCUMENT_CREATE] });
    await dataSource.transaction((m) => m.save(Document, m.create(Document, { projectId: project.id, blueprintId: blueprint.id })));
    return { hooks, webhook };
  }

  async function deliveryOf(webhookId: string): Promise<Delivery | null> {
    return dataSource.getRepository(Delivery).findOneBy({ webhookId });
  }

  it('retries a failing receiver on schedule: three log rows, attempts 1-3, one webhook-id', async () => {
    const { hooks, webhook } = await oneDocumentEvent((_, i) => (i < 2 ? { status: 500, body: 'down' } : { status: 200, body: 'ok' }));
    const requests = await hooks.waitForCount(3);
    await waitUntil('delivery succeeded', async () => (await deliveryOf(webhook.id))?.status === DeliveryStatus.SUCCEEDED);

    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(new Set(requests.map((r) => r.body)).size).toBe(1);
    requests.forEach((r) => verify(webhook, r));
    const calls = await callsOf(webhook.id);
    expect(calls.map((c) => [c.attempt, c.success, c.responseStatusCode])).toEqual([[1, false, 500], [2, false, 500], [3, true, 200]]);
    expect(new Set(calls.map((c) => c.eventId))).toEqual(new Set([requests[0].headers['webhook-id']]));
    expect(calls[0].error).toMatch(/500/);
    expect(calls[0].responseBody).toBe('down');
    expect(calls[0].nextRetryAt).toBeInstanceOf(Date);
    expect(calls[1].nextRetryAt).toBeInstanceOf(Date);
    expect(calls[2].nextRetryAt).toBeNull();
    const delivery = await deliveryOf(webhook.id);
    expect(delivery).toMatchObject({ attempts: 3, leasedBy: null, leaseExpiresAt: null });
    // The poll interval is a minute: only the local retry timer can have sent these this soon
    // (the bound is loose because test machines are often busy).
    expect(requests[2].at - requests[0].at).toBeLessThan(10_000);
  });

  it('marks the delivery failed when the schedule is exhausted', async () => {
    const { hooks, webhook } = await oneDocumentEvent(() => ({ status: 503 }), { retryScheduleMs: [20, 20] });
    await waitUntil('delivery failed', async () => (await deliveryOf(webhook.id))?.status === DeliveryStatus.FAILED);
    expect(hooks.requests).toHaveLength(3);
    const calls = await callsOf(webhook.id);
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(calls.every((c) => !c.success)).toBe(true);
    expect(calls[2].nextRetryAt).toBeNull();
    expect(logged.lines.some((line) => line.includes('giving up'))).toBe(true);
  });

  it('honours Retry-After', async () => {
    const { hooks, webhook } = await oneDocumentEvent(
      (_, i) => (i === 0 ? { status: 429, headers: { 'Retry-After': '1' } } : { status: 204 }),
      { retryScheduleMs: [20, 5_000] },
    );
    const [first, second] = await hooks.waitForCount(2);
    expect(second.at - first.at).toBeGreaterThanOrEqual(950);
    await waitUntil('delivery succeeded', async () => (await deliveryOf(webhook.id))?.status === DeliveryStatus.SUCCEEDED);
    const [call] = await callsOf(webhook.id);
    const planned = call.nextRetryAt!.getTime() - call.createdAt.getTime();
    expect(planned).toBeGreaterThanOrEqual(950);
    expect(planned).toBeLessThan(2_000);
  });

  it('stores an answer containing NUL, which PostgreSQL text cannot hold, instead of losing the attempt', async () => {
    const { webhook } = await oneDocumentEvent(() => ({ status: 200, body: 'ok\u0000then more' }), { retryScheduleMs: [20] });
    await waitUntil('delivery succeeded', async () => (await deliveryOf(webhook.id))?.status === DeliveryStatus.SUCCEEDED);
    const calls = await callsOf(webhook.id);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ success: true, attempt: 1, responseStatusCode: 200, responseBody: 'ok\uFFFDthen more' });
  });

  it('logs a blocked destination as a failed attempt without reaching it', async () => {
    // A loopback address outside the allow-list stands in for every refused range (never aim a test elsewhere).
    startWorker({ retryScheduleMs: [10], allowedCidrs: ['127.0.0.1/32'] });
    const { project, blueprint } = await createFixture(dataSource);
    const webhook = await createWebhook(dataSource, { projectId: project.id, url: 'http://127.0.0.2:9/latest/meta-data', triggers: [WebhookTrigger.DOCUMENT_CREATE] });
    await dataSource.transaction((m) => m.save(Document, m.create(Document, { projectId: project.id, blueprintId: blueprint.id })));
    await waitUntil('delivery failed', async () => (await deliveryOf(webhook.id))?.status === DeliveryStatus.FAILED);
    const calls = await callsOf(webhook.id);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ success: false, responseStatusCode: null, responseBody: null });
    expect(calls[0].error).toMatch(/127\.0\.0\.2.*loopback.*WEBHOOK_ALLOWED_CIDRS/);
  });
});

describe('webhook selection', () => {
  it('respects disabled webhooks and blueprint filters; member events pass every filter', async () => {
    startWorker();
    const all = await receiver();
    const filtered = await receiver();
    const disabled = await receiver();
    const { project, user, blueprint } = await createFixture(dataSource);
    const other = await dataSource.transaction((m) => m.save(Blueprint, m.create(Blueprint, { projectId: project.id, name: 'Other', apiName: 'other' })));
    const triggers = [WebhookTrigger.DOCUMENT_CREATE, WebhookTrigger.PROJECT_MEMBER_ASSIGNED];
    await createWebhook(dataSource, { projectId: project.id, url: all.url, triggers });
    const filteredHook = await createWebhook(dataSource, { projectId: project.id, url: filtered.url, triggers, blueprintIds: [blueprint.id] });
    const disabledHook = await createWebhook(dataSource, { projectId: project.id, url: disabled.url, triggers, enabled: false });

    await dataSource.transaction(async (m) => {
      await m.save(Document, m.create(Document, { projectId: project.id, blueprintId: blueprint.id, title: 'in filter' }));
      await m.save(Document, m.create(Document, { projectId: project.id, blueprintId: other.id, title: 'outside filter' }));
      await m.save(ProjectMember, m.create(ProjectMember, { projectId: project.id, userId: user.id, role: ProjectRole.VIEWER }));
    });

    await all.waitForCount(3);
    const got = await filtered.waitForCount(2);
    const [{ n }] = await dataSource.query(`SELECT count(*)::int AS n FROM domain_event WHERE project_id = $1 AND dispatched_at IS NULL`, [project.id]);
    expect(n).toBe(0); // everything fanned out: nothing more can come
    expect(got.map((r) => JSON.parse(r.body).webhook.trigger).sort()).toEqual([WebhookTrigger.DOCUMENT_CREATE, WebhookTrigger.PROJECT_MEMBER_ASSIGNED]);
    expect(got.map((r) => JSON.parse(r.body).metadata.blueprint_id)).toContain(blueprint.id);
    expect(got.map((r) => JSON.parse(r.body).metadata.blueprint_id)).not.toContain(other.id);
    expect(await dataSource.getRepository(Delivery).countBy({ webhookId: filteredHook.id })).toBe(2);
    expect(await dataSource.getRepository(Delivery).countBy({ webhookId: disabledHook.id })).toBe(0);
    expect(disabled.requests).toHaveLength(0);
  });
});

describe('sendNow (replay and test sends)', () => {
  it('sends once, signed, logs the attempt and returns the log row', async () => {
    const hooks = await receiver((_, i) => (i === 0 ? { status: 200, body: 'pong' } : { status: 500 }));
    const { project } = await createFixture(dataSource);
    const webhook = await createWebhook(dataSource, { projectId: project.id, url: hooks.url });
    const config = testWebhookConfig();
    const sender = createWebhookSender(config);
    try {
      const eventId = '0b8a5d2e-9b7e-4c53-a3c1-5d8c2f1e4a77';
      const body = samplePayloadBody(WebhookTrigger.DOCUMENT_UPDATE, webhook.id, project.id, { eventId });
      const writer = new OutcomeWriter(dataSource);
      const call = await sendNow(writer, sender, config, { webhook, kind: WebhookCallKind.TEST, eventId, trigger: WebhookTrigger.DOCUMENT_UPDATE, body });
      expect(call).toMatchObject({ kind: WebhookCallKind.TEST, attempt: 1, success: true, responseBody: 'pong', eventId, deliveryId: null, requestBody: body, nextRetryAt: null });
      // The returned row is exactly the stored one.
      expect(call).toEqual(await dataSource.getRepository(WebhookCall).findOneByOrFail({ id: call.id }));
      const [request] = await hooks.waitForCount(1);
      expect(request.body).toBe(body);
      expect(request.headers['webhook-id']).toBe(eventId);
      verify(webhook, request);

      // A failing replay is logged and not retried.
      const replay = await sendNow(writer, sender, config, { webhook, kind: WebhookCallKind.REPLAY, eventId, trigger: WebhookTrigger.DOCUMENT_UPDATE, body });
      expect(replay).toMatchObject({ kind: WebhookCallKind.REPLAY, success: false, responseStatusCode: 500, nextRetryAt: null });
      expect(await dataSource.getRepository(Delivery).countBy({ webhookId: webhook.id })).toBe(0);
      expect(await dataSource.getRepository(WebhookCall).countBy({ webhookId: webhook.id })).toBe(2);
    } finally {
      sender.close();
    }
  });
});
