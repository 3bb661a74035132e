import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createReceiver, HandledEvent } from '../../examples/receiver';
import { CmsClient, signWebhook } from 'cms-webhooks-sdk';
import { createProject, createUserWithToken, ok, startTestApi, TestApi } from '../support/api';
import { waitUntil } from '../support/wait';

/**
 * The example receiver (examples/receiver.ts) against a running server, as its README tells
 * an integrator to run it: it verifies each request, fetches the document through the SDK
 * with a project member's token, and handles each event id once.
 */
let api: TestApi;
let server: http.Server;
let receiverUrl: string;
let adminToken: string;
let projectId: string;
let webhookId: string;
let signingSecret: string;
let documentId: string;
const handled: HandledEvent[] = [];
let fetches = 0;

/** Counts the receiver's follow-up fetches: it calls `document()` at once when it handles an event. */
class CountingClient extends CmsClient {
  override document(id: string) {
    fetches += 1;
    return super.document(id);
  }
}

const ofTrigger = (trigger: string) => handled.filter((h) => h.event.webhook.trigger === trigger);

beforeAll(async () => {
  api = await startTestApi();
  projectId = await createProject(api, 'Example receiver');
  adminToken = (await createUserWithToken(api, 'admin@example.test', projectId, 'ADMIN')).token;
  // The receiver reads documents, so a VIEWER's token is all it is given.
  const reader = await createUserWithToken(api, 'reader@example.test', projectId, 'VIEWER');
  const blueprintId = ok(
    await api.op(adminToken, 'CreateBlueprint', { projectId, input: { name: 'Article', apiName: 'article', fields: [{ name: 'body', type: 'string' }] } }),
    'CreateBlueprint',
  ).createBlueprint.id;

  // The receiver needs the secret and the webhook needs the receiver's URL: create the webhook
  // disabled first, then point it at the receiver once that listens.
  const created = ok(
    await api.op(adminToken, 'CreateWebhook', {
      projectId,
      input: { name: 'example', url: 'http://127.0.0.1:9/unused', triggers: ['DOCUMENT_CREATE', 'DOCUMENT_UPDATE'], enabled: false },
    }),
    'CreateWebhook',
  ).createWebhook;
  webhookId = created.id;
  signingSecret = created.signingSecret;

  server = createReceiver({
    secret: signingSecret,
    cms: new CountingClient({ url: api.url, token: reader.token }),
    onEvent: (event) => handled.push(event),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  ok(await api.op(adminToken, 'UpdateWebhook', { id: webhookId, input: { url: receiverUrl, enabled: true } }), 'UpdateWebhook');

  documentId = ok(
    await api.op(adminToken, 'CreateDocument', { projectId, input: { blueprintId, title: 'Hello receivers', fields: { body: 'first' } } }),
    'CreateDocument',
  ).createDocument.id;
  ok(await api.op(adminToken, 'SetDocumentStatus', { id: documentId, status: 'PUBLISHED' }), 'SetDocumentStatus');
  await waitUntil('the create and update events to be handled', () => handled.length >= 2, 10_000);
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await api?.close();
});

test('document_create is handled with the document fetched through the SDK', () => {
  const [create] = ofTrigger('document_create');
  expect(ofTrigger('document_create')).toHaveLength(1);
  expect(create.event).toMatchObject({
    metadata: { document_id: documentId, document_status_id: 0 },
    scope: { project_id: projectId },
    webhook: { trigger: 'document_create', webhook_id: webhookId },
  });
  expect(create.document).toMatchObject({ id: documentId, title: 'Hello receivers', blueprint: { apiName: 'article' } });
  // Fetched after receipt: the document may already have been published by then.
  expect(['DRAFT', 'PUBLISHED']).toContain(create.document!.status);
});

test('document_update (publish) is handled with the published document', () => {
  const updates = ofTrigger('document_update');
  expect(updates).toHaveLength(1);
  expect(updates[0].event).toMatchObject({
    metadata: { document_id: documentId, document_status_id: 2 },
    webhook: { trigger: 'document_update', webhook_id: webhookId },
  });
  expect(updates[0].document).toMatchObject({ id: documentId, title: 'Hello receivers', status: 'PUBLISHED' });
  expect(handled).toHaveLength(2);
  expect(fetches).toBe(2);
});

test('requests that are not genuine get 400 and are not handled', async () => {
  const body = JSON.stringify({
    event_id: '11111111-1111-4111-8111-111111111111',
    metadata: { blueprint_id: '', document_id: documentId, document_status_id: 2 },
    scope: { project_id: projectId },
    webhook: { trigger: 'document_update', webhook_id: webhookId },
  });
  const id = '11111111-1111-4111-8111-111111111111';
  const timestamp = Math.floor(Date.now() / 1000);
  const wrongSecret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
  const attempts: Array<[string, Record<string, string>, string]> = [
    ['signed with another secret', { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(wrongSecret, id, timestamp, body) }, body],
    ['a garbage signature', { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': 'v1,bm90IGEgc2lnbmF0dXJl' }, body],
    ['no signature headers', {}, body],
    ['a body altered after signing', { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(signingSecret, id, timestamp, body) }, body.replace('"document_status_id":2', '"document_status_id":3')],
    ['a stale timestamp', { 'webhook-id': id, 'webhook-timestamp': String(timestamp - 3600), 'webhook-signature': signWebhook(signingSecret, id, timestamp - 3600, body) }, body],
  ];
  for (const [what, headers, sent] of attempts) {
    const res = await fetch(receiverUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: sent });
    expect({ what, status: res.status }).toEqual({ what, status: 400 });
  }
  expect(handled).toHaveLength(2);
  expect(fetches).toBe(2);
});

test('a replay of an event already handled is acknowledged but not handled again', async () => {
  // The worker logs a call once the exchange has ended: the receiver may handle it first.
  let calls: any[] = [];
  await waitUntil('the create event in the log', async () => {
    calls = ok(
      await api.op(adminToken, 'WebhookCalls', { projectId, filter: { webhookId, kind: 'EVENT', trigger: 'DOCUMENT_CREATE' } }),
      'WebhookCalls',
    ).webhookCalls.edges.map((e: { node: any }) => e.node);
    return calls.length > 0;
  });
  expect(calls).toHaveLength(1);
  const replay = ok(await api.op(adminToken, 'ReplayWebhookCall', { id: calls[0].id }), 'ReplayWebhookCall').replayWebhookCall;
  // 204: the freshly signed replay verified, and the receiver acknowledged it.
  expect(replay).toMatchObject({ kind: 'REPLAY', success: true, responseStatusCode: 204, eventId: calls[0].eventId });
  // The receiver decides before it answers, and starts the fetch in the same tick: had it
  // handled the replay, the fetch would have been counted by the time the answer arrived.
  expect(fetches).toBe(2);

  // A later event is handled; the replayed one, which would have been started first, never is.
  ok(await api.op(adminToken, 'SetDocumentStatus', { id: documentId, status: 'ARCHIVED' }), 'SetDocumentStatus');
  await waitUntil('the archive event to be handled', () => handled.length >= 3, 10_000);
  expect(handled).toHaveLength(3);
  expect(fetches).toBe(3);
  expect(handled[2].event.metadata.document_status_id).toBe(3);
  expect(handled[2].document).toMatchObject({ id: documentId, status: 'ARCHIVED' });
  expect(new Set(handled.map((h) => h.event.event_id)).size).toBe(3);
});
