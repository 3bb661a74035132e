import { Client } from 'pg';
import { CmsClient } from '../../sdk/client';
import { SDK_OPERATIONS } from '../../sdk/operations';
import { verifyWebhook, type WebhookPayload } from '../../sdk/verify';
import { createProject, ok, startTestApi, TestApi, wsClient } from '../support/api';
import { captureLog } from '../support/fixtures';
import { ReceivedRequest, Receiver, startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';

/**
 * Loop protection end to end: receivers that, on each delivery, update the document they
 * were told about through the SDK's follow-up client, as real integrations do.
 */
let api: TestApi;
let db: Client;
const logged = captureLog();
const receivers: Receiver[] = [];

beforeAll(async () => {
  api = await startTestApi({ WEBHOOK_PER_ENDPOINT_CONCURRENCY: '1', WEBHOOK_MAX_CAUSAL_DEPTH: '3' }, undefined, logged.log);
  db = new Client({ connectionString: api.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await db?.end();
  await api?.close();
});

const admin = () => new CmsClient({ url: api.url, token: api.adminToken });

async function setUp(name: string): Promise<{ projectId: string; blueprintId: string }> {
  const projectId = await createProject(api, name);
  const blueprint = await admin().createBlueprint(projectId, {
    name: 'Post',
    fields: ['body', 'reviewed', 'ping', 'pong'].map((field) => ({ name: field, type: 'text' })),
  });
  return { projectId, blueprintId: blueprint.id };
}

/**
 * A receiver that verifies each delivery and, for a document event, writes `field` on that
 * document through `forDelivery` (with or without the origin webhook) before answering 204.
 */
async function writingReceiver(field: string, precise = true): Promise<{ r: Receiver; secret: { value: string } }> {
  const secret = { value: '' };
  const r = await startReceiver(async (request: ReceivedRequest, index) => {
    const event: WebhookPayload = verifyWebhook(secret.value, request.headers, request.body);
    if (event.metadata.document_id) {
      const cms = admin().forDelivery(precise ? event : { eventId: event.event_id });
      await cms.updateDocument(event.metadata.document_id, { fields: { [field]: `${field} ${index}` } });
    }
    return { status: 204 };
  });
  receivers.push(r);
  return { r, secret };
}

async function createHook(projectId: string, name: string, url: string, input: Record<string, unknown>): Promise<{ id: string; signingSecret: string }> {
  const result = await api.gql(api.adminToken, `mutation($p: ID!, $i: WebhookInput!) { createWebhook(projectId: $p, input: $i) { id signingSecret } }`, {
    p: projectId,
    i: { name, url, ...input },
  });
  return ok(result, `createWebhook ${name}`).createWebhook;
}

async function deliveriesOf(webhookId: string): Promise<Array<{ event_id: string; trigger: string }>> {
  return (await db.query(`SELECT event_id, trigger FROM webhook_delivery WHERE webhook_id = $1 ORDER BY created_at, id`, [webhookId])).rows;
}

async function eventRow(id: string): Promise<{ cause_event_id: string | null; causal_depth: number; cause_webhook_id: string | null }> {
  return (await db.query(`SELECT cause_event_id, cause_webhook_id, causal_depth FROM domain_event WHERE id = $1`, [id])).rows[0];
}

const bodyOf = (request: ReceivedRequest): WebhookPayload => JSON.parse(request.body);

test('a receiver that updates the document it was told about gets one call; another webhook gets the caused event', async () => {
  const { projectId, blueprintId } = await setUp('self-update');
  const writer = await writingReceiver('reviewed');
  const hook = await createHook(projectId, 'writer', writer.r.url, { triggers: ['DOCUMENT_FIELD_UPDATE', 'BLUEPRINT_UPDATE'] });
  writer.secret.value = hook.signingSecret;
  const watcher = await startReceiver();
  receivers.push(watcher);
  const other = await createHook(projectId, 'reviews', watcher.url, { triggers: ['DOCUMENT_FIELD_UPDATE'], changedFields: ['reviewed'] });

  const doc = await admin().createDocument(projectId, { blueprintId, title: 'x', fields: { body: 'a' } });
  await admin().updateDocument(doc.id, { fields: { body: 'b' } });
  // The writer's update is the other webhook's event: it arrives there, caused by the first.
  const [caused] = await watcher.waitForCount(1);
  const first = bodyOf(writer.r.requests[0]);
  expect(bodyOf(caused).metadata.changed_fields).toEqual(['reviewed']);
  expect(await eventRow(bodyOf(caused).event_id)).toEqual({ cause_event_id: first.event_id, cause_webhook_id: hook.id, causal_depth: 1 });

  // Sentinel: an unrelated change after the chain; once it is in, the chain has been fanned out.
  await admin().updateBlueprint(blueprintId, { name: 'Post!' });
  await writer.r.waitUntil('the sentinel', (requests) => requests.some((r) => bodyOf(r).webhook.trigger === 'blueprint_update'));
  expect(writer.r.requests.map((r) => bodyOf(r).webhook.trigger)).toEqual(['document_field_update', 'blueprint_update']);
  expect((await deliveriesOf(hook.id)).map((d) => d.trigger)).toEqual(['document_field_update', 'blueprint_update']);
  expect(await deliveriesOf(other.id)).toHaveLength(1);
});

test('with webhook-id alone, every webhook the cause went to is spared the caused event', async () => {
  const { projectId, blueprintId } = await setUp('conservative');
  const writer = await writingReceiver('reviewed', false);
  const hook = await createHook(projectId, 'writer', writer.r.url, { triggers: ['DOCUMENT_FIELD_UPDATE', 'BLUEPRINT_UPDATE'] });
  writer.secret.value = hook.signingSecret;
  const bystander = await startReceiver();
  receivers.push(bystander);
  const seen = await createHook(projectId, 'bystander', bystander.url, { triggers: ['DOCUMENT_FIELD_UPDATE', 'BLUEPRINT_UPDATE'] });

  const doc = await admin().createDocument(projectId, { blueprintId, title: 'x', fields: { body: 'a' } });
  await admin().updateDocument(doc.id, { fields: { body: 'b' } });
  await writer.r.waitForCount(1);
  await admin().updateBlueprint(blueprintId, { name: 'Post!' });
  for (const r of [writer.r, bystander]) {
    await r.waitUntil('the sentinel', (requests) => requests.some((q) => bodyOf(q).webhook.trigger === 'blueprint_update'));
  }
  // The writer's change went to neither: both got its cause, and the request did not say whose delivery it was.
  for (const id of [hook.id, seen.id]) expect((await deliveriesOf(id)).map((d) => d.trigger)).toEqual(['document_field_update', 'blueprint_update']);
  const { rows } = await db.query(`SELECT causal_depth, cause_webhook_id FROM domain_event WHERE cause_event_id = $1`, [bodyOf(writer.r.requests[0]).event_id]);
  expect(rows).toEqual([{ causal_depth: 1, cause_webhook_id: null }]);
});

test('a ping-pong between two webhooks stops at WEBHOOK_MAX_CAUSAL_DEPTH, logged and visible on the event', async () => {
  const { projectId, blueprintId } = await setUp('ping-pong');
  const ping = await writingReceiver('pong');
  const pong = await writingReceiver('ping');
  const a = await createHook(projectId, 'ping', ping.r.url, { triggers: ['DOCUMENT_FIELD_UPDATE'], changedFields: ['ping'] });
  const b = await createHook(projectId, 'pong', pong.r.url, { triggers: ['DOCUMENT_FIELD_UPDATE'], changedFields: ['pong'] });
  ping.secret.value = a.signingSecret;
  pong.secret.value = b.signingSecret;

  const doc = await admin().createDocument(projectId, { blueprintId, title: 'x', fields: {} });
  await admin().updateDocument(doc.id, { fields: { ping: 'serve' } });
  // depth 0 → ping, 1 → pong, 2 → ping, 3 → pong; the change made at depth 4 goes nowhere.
  const { rows } = await waitForDepth(doc.id, 4);
  const deepest = rows[0];
  await waitUntil('the suppression log line', () => logged.lines.some((l) => l.includes(deepest.id) && l.includes('WEBHOOK_MAX_CAUSAL_DEPTH=3')));
  const line = logged.lines.find((l) => l.includes(deepest.id))!;
  expect(line).toContain(`caused by event ${deepest.cause_event_id}`);
  expect(line).toContain('is 4 deliveries deep');

  expect(ping.r.requests.map((r) => bodyOf(r).metadata.changed_fields)).toEqual([['ping'], ['ping']]);
  expect(pong.r.requests.map((r) => bodyOf(r).metadata.changed_fields)).toEqual([['pong'], ['pong']]);
  expect((await deliveriesOf(a.id)).length + (await deliveriesOf(b.id)).length).toBe(4);
  expect(await db.query(`SELECT 1 FROM webhook_delivery WHERE event_id = $1`, [deepest.id])).toMatchObject({ rowCount: 0 });

  // The project's admin sees it on the event stream: replayed from the first event of the chain.
  const origin = bodyOf(ping.r.requests[0]).event_id;
  const client = wsClient(api, api.adminToken);
  try {
    const stream = client.iterate({ query: SDK_OPERATIONS.WebhookEvents, operationName: 'WebhookEvents', variables: { projectId, after: origin } });
    const seen: Array<{ id: string; causeEventId: string | null; causalDepth: number; suppressedReason: string | null }> = [];
    for await (const result of stream) {
      seen.push((result.data as any).webhookEvents);
      if (seen.length === 4) break;
    }
    expect(seen.map((e) => e.causalDepth)).toEqual([1, 2, 3, 4]);
    expect(seen[0].causeEventId).toBe(origin);
    expect(seen.slice(0, 3).every((e) => e.suppressedReason === null)).toBe(true);
    expect(seen[3]).toMatchObject({ id: deepest.id, suppressedReason: expect.stringContaining('WEBHOOK_MAX_CAUSAL_DEPTH is 3') });
  } finally {
    await client.dispose();
  }
});

/** Polls the outbox (no NOTIFY reaches a test) until the document has an event that deep. */
async function waitForDepth(documentId: string, depth: number) {
  let found: { rows: Array<{ id: string; cause_event_id: string }> } = { rows: [] };
  await waitUntil(`an event ${depth} deep`, async () => {
    found = await db.query(`SELECT id, cause_event_id FROM domain_event WHERE metadata->>'document_id' = $1 AND causal_depth = $2`, [documentId, depth]);
    return found.rows.length > 0;
  }, 30_000);
  return found;
}

test('a cause from another project, or a malformed header, is no cause: the change is saved, the header ignored (and logged)', async () => {
  const here = await setUp('cause here');
  const elsewhere = await setUp('cause elsewhere');
  const foreign = await admin().createDocument(elsewhere.projectId, { blueprintId: elsewhere.blueprintId, title: 'elsewhere' });
  const { rows: [foreignEvent] } = await db.query(`SELECT id FROM domain_event WHERE metadata->>'document_id' = $1`, [foreign.id]);
  const doc = await admin().createDocument(here.projectId, { blueprintId: here.blueprintId, title: 'here' });

  await admin().forDelivery({ eventId: foreignEvent.id }).updateDocument(doc.id, { fields: { body: 'foreign cause' } });
  await admin().forDelivery({ eventId: 'msg_not-a-uuid' }).updateDocument(doc.id, { fields: { body: 'malformed cause' } });

  const { rows } = await db.query(
    `SELECT cause_event_id, causal_depth FROM domain_event WHERE metadata->>'document_id' = $1 AND trigger = 'document_field_update' ORDER BY created_at`,
    [doc.id],
  );
  expect(rows).toEqual([
    { cause_event_id: null, causal_depth: 0 },
    { cause_event_id: null, causal_depth: 0 },
  ]);
  expect(logged.lines.some((l) => l.includes('ignored a loop-protection header') && l.includes('webhook-id is not one event id'))).toBe(true);
  expect(logged.lines.some((l) => l.includes('msg_not-a-uuid'))).toBe(false);
});
