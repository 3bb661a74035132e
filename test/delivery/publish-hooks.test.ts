import { Webhook as StandardWebhook } from 'standardwebhooks';
import { ok, startTestApi, TestApi } from '../support/api';
import { ReceivedRequest, Receiver, startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';

/**
 * What a project sets up to call a deploy hook, GitHub's repository_dispatch and a Slack
 * channel straight from the CMS, only when a document is published: three webhooks, each a
 * body template plus the status filter. Drafts and edits call nobody; a publish calls each
 * exactly once, with the body its target takes, signed over what was sent.
 */

let api: TestApi;
let receiver: Receiver;
let admin: string;
let projectId: string;
let blueprintId: string;
const secrets = new Map<string, string>();

const DOCUMENT_TRIGGERS = ['DOCUMENT_CREATE', 'DOCUMENT_UPDATE', 'DOCUMENT_FIELD_UPDATE'];

const HOOKS = {
  '/deploy': { bodyTemplate: '{"trigger_title": "CMS publish: {{ document.title }}"}' },
  '/repos/acme/site/dispatches': {
    bodyTemplate: JSON.stringify({
      event_type: 'cms.{{ webhook.trigger }}',
      client_payload: { document_id: '{{ metadata.document_id }}', status: '{{ metadata.document_status_id }}', blueprint: '{{ blueprint.api_name }}' },
    }),
    headers: [{ name: 'Authorization', value: 'Bearer ghp_example', secret: true }],
  },
  '/services/T000/B000/XXXX': { bodyTemplate: '{"text": "{{ project.name }}: *{{ document.title }}* is live"}' },
} as const;

beforeAll(async () => {
  receiver = await startReceiver();
  api = await startTestApi();
  admin = api.adminToken;
  projectId = ok(await api.op(admin, 'CreateProject', { input: { name: 'Acme site' } }), 'CreateProject').createProject.id;
  blueprintId = ok(await api.op(admin, 'CreateBlueprint', { projectId, input: { name: 'Page', apiName: 'page', fields: [{ name: 'body', type: 'richtext' }] } }), 'CreateBlueprint')
    .createBlueprint.id;
  for (const [path, settings] of Object.entries(HOOKS)) {
    const created = ok(
      await api.gql(admin, `mutation($p: ID!, $i: WebhookInput!) { createWebhook(projectId: $p, input: $i) { id signingSecret } }`, {
        p: projectId,
        i: { name: path, url: `${receiver.url}${path}`, triggers: DOCUMENT_TRIGGERS, documentStatuses: ['PUBLISHED'], ...settings },
      }),
      'createWebhook',
    ).createWebhook;
    secrets.set(path, created.signingSecret);
  }
});

afterAll(async () => {
  await api?.close();
  await receiver?.close();
});

/** The receiver serves every webhook under its own URL's path (`…/hook`); each one's own path follows it. */
const hookOf = (request: ReceivedRequest): string => request.path.replace(/^\/hook/, '');

function verified(request: ReceivedRequest): unknown {
  const secret = secrets.get(hookOf(request))!;
  return new StandardWebhook(secret).verify(request.body, {
    'webhook-id': request.headers['webhook-id'],
    'webhook-timestamp': request.headers['webhook-timestamp'],
    'webhook-signature': request.headers['webhook-signature'],
  });
}

async function publishedCalls(documentId: string, title: string): Promise<Map<string, ReceivedRequest>> {
  const calls = new Map<string, ReceivedRequest>();
  await waitUntil(`the three calls for ${title}`, () => {
    for (const request of receiver.requests) {
      if (request.body.includes(title) || request.body.includes(documentId)) calls.set(hookOf(request), request);
    }
    return calls.size === 3;
  });
  return calls;
}

test('drafts and edits call nobody; a publish calls the deploy hook, GitHub and Slack once each, as they take it', async () => {
  const draft = ok(await api.op(admin, 'CreateDocument', { projectId, input: { blueprintId, title: 'Pricing' } }), 'CreateDocument').createDocument.id;
  ok(await api.op(admin, 'UpdateDocument', { id: draft, input: { fields: { body: 'first words' } } }), 'UpdateDocument');
  ok(await api.op(admin, 'SetDocumentStatus', { id: draft, status: 'PUBLISHED' }), 'SetDocumentStatus');

  const calls = await publishedCalls(draft, 'Pricing');
  expect(verified(calls.get('/deploy')!)).toEqual({ trigger_title: 'CMS publish: Pricing' });
  // A placeholder alone keeps its type: the status id arrives as a number.
  expect(verified(calls.get('/repos/acme/site/dispatches')!)).toEqual({
    event_type: 'cms.document_update',
    client_payload: { document_id: draft, status: 2, blueprint: 'page' },
  });
  expect(calls.get('/repos/acme/site/dispatches')!.headers.authorization).toBe('Bearer ghp_example');
  expect(verified(calls.get('/services/T000/B000/XXXX')!)).toEqual({ text: 'Acme site: *Pricing* is live' });

  // An edit after publishing makes the document CHANGED: filtered out, like the draft's create
  // and edit were. A second publish is the sentinel: once its calls are in, nothing else came.
  ok(await api.op(admin, 'UpdateDocument', { id: draft, input: { fields: { body: 'edited' } } }), 'UpdateDocument');
  const second = ok(await api.op(admin, 'CreateDocument', { projectId, input: { blueprintId, title: 'About us' } }), 'CreateDocument').createDocument.id;
  ok(await api.op(admin, 'SetDocumentStatus', { id: second, status: 'PUBLISHED' }), 'SetDocumentStatus');
  await publishedCalls(second, 'About us');
  expect(receiver.requests).toHaveLength(6);
  expect(receiver.requests.every((r) => r.headers['content-type'] === 'application/json')).toBe(true);
});
