import { Webhook as StandardWebhook } from 'standardwebhooks';
import type { FormattedExecutionResult } from 'graphql';
import { SDK_OPERATIONS } from '../../sdk/operations';
import { codeOf, createUserWithToken, ok, startTestApi, TestApi, wsClient } from '../support/api';
import { ReceivedRequest, Receiver, startReceiver } from '../support/receiver';
import { waitUntil, within } from '../support/wait';

/**
 * Body templates end to end: the body a real receiver gets is the rendered template (types
 * kept, text interpolated), its content type follows the format, the signature verifies the
 * bytes received, test sends / replays / the log use the same body, and bad templates are
 * refused naming what is wrong.
 */

let api: TestApi;
let receiver: Receiver;
let projectId: string;
let blueprintId: string;
let admin: string;

const WEBHOOK_FIELDS = 'id signingSecret bodyTemplate bodyFormat bodyContentType';

beforeAll(async () => {
  receiver = await startReceiver();
  api = await startTestApi();
  admin = api.adminToken;
  projectId = ok(await api.op(admin, 'CreateProject', { input: { name: 'Acme site' } }), 'CreateProject').createProject.id;
  blueprintId = ok(await api.op(admin, 'CreateBlueprint', { projectId, input: { name: 'Blog post', apiName: 'blog_post', fields: [{ name: 'body', type: 'richtext' }] } }), 'CreateBlueprint').createBlueprint.id;
});

afterAll(async () => {
  await api?.close();
  await receiver?.close();
});

async function createWebhook(input: Record<string, unknown>): Promise<{ id: string; signingSecret: string; bodyContentType: string }> {
  const result = await api.gql(admin, `mutation($p: ID!, $i: WebhookInput!) { createWebhook(projectId: $p, input: $i) { ${WEBHOOK_FIELDS} } }`, {
    p: projectId,
    i: { name: 'templated', url: receiver.url, triggers: ['DOCUMENT_UPDATE'], ...input },
  });
  return ok(result, 'createWebhook').createWebhook;
}

/** Publishes a new document and returns the request its webhook got (the receiver sees every webhook of the project). */
async function publish(title: string, hookPath: string): Promise<{ request: ReceivedRequest; documentId: string }> {
  const before = receiver.requests.length;
  const documentId = ok(await api.op(admin, 'CreateDocument', { projectId, input: { blueprintId, title } }), 'CreateDocument').createDocument.id;
  ok(await api.op(admin, 'SetDocumentStatus', { id: documentId, status: 'PUBLISHED' }), 'SetDocumentStatus');
  let request: ReceivedRequest | undefined;
  await waitUntil(`the ${hookPath} request for ${title}`, () => {
    request = receiver.requests.slice(before).find((r) => r.path.endsWith(hookPath));
    return request !== undefined;
  });
  return { request: request!, documentId };
}

/**
 * The standardwebhooks package's check of what arrived. Its verify() also parses the body as
 * JSON, so a text body is checked with its sign(), over the same id, timestamp and raw body.
 */
function verify(secret: string, request: ReceivedRequest): unknown {
  const headers = { 'webhook-id': request.headers['webhook-id'], 'webhook-timestamp': request.headers['webhook-timestamp'], 'webhook-signature': request.headers['webhook-signature'] };
  const webhook = new StandardWebhook(secret);
  if (request.headers['content-type'].includes('json')) return webhook.verify(request.body, headers);
  const expected = webhook.sign(headers['webhook-id'], new Date(Number(headers['webhook-timestamp']) * 1000), request.body);
  expect(headers['webhook-signature'].split(' ')).toContain(expected);
  return request.body;
}

async function loggedCall(eventId: string, webhookId: string): Promise<{ id: string; requestBody: string; requestHeaders: Array<{ name: string; value: string }> }> {
  let call: any;
  await waitUntil('the call to be logged', async () => {
    const page = ok(
      await api.gql(admin, `query($p: ID!, $f: WebhookCallFilter) { webhookCalls(projectId: $p, filter: $f) { edges { node { id requestBody requestHeaders { name value } } } } }`, {
        p: projectId,
        f: { eventId, webhookId },
      }),
      'webhookCalls',
    );
    call = page.webhookCalls.edges[0]?.node;
    return call !== undefined;
  });
  return call;
}

test('a JSON template: one-placeholder strings keep their type, others interpolate; the signature verifies what arrived', async () => {
  const template = JSON.stringify({
    status: '{{ metadata.document_status_id }}',
    fields: '{{ changed_fields }}',
    title: 'Doc {{ document.title }} published',
    doc: '{{ metadata.document_id }}',
    names: '{{ blueprint.name }}/{{ blueprint.api_name }} in {{ project.name }} ({{ document.status }})',
    user: '{{ triggered_user_id }}',
  });
  const webhook = await createWebhook({ url: `${receiver.url}/json`, bodyTemplate: template });
  expect(webhook.bodyContentType).toBe('application/json');
  const { request, documentId } = await publish('Hello "quoted" world', '/json');

  expect(request.headers['content-type']).toBe('application/json');
  const body = JSON.parse(request.body);
  expect(body).toEqual({
    status: 2,
    fields: null, // a status change has no changed_fields
    title: 'Doc Hello "quoted" world published',
    doc: documentId,
    names: 'Blog post/blog_post in Acme site (PUBLISHED)',
    user: expect.stringMatching(/^[0-9a-f-]{36}$/),
  });
  expect(verify(webhook.signingSecret, request)).toEqual(body);
  const call = await loggedCall(request.headers['webhook-id'], webhook.id);
  expect(call.requestBody).toBe(request.body);
});

test('changed_fields as an array, from a field update', async () => {
  const webhook = await createWebhook({ url: `${receiver.url}/fields`, triggers: ['DOCUMENT_FIELD_UPDATE'], bodyTemplate: '{"changed": "{{ changed_fields }}", "first": "{{ changed_fields.first }}"}' });
  const documentId = ok(await api.op(admin, 'CreateDocument', { projectId, input: { blueprintId, title: 'A' } }), 'CreateDocument').createDocument.id;
  ok(await api.op(admin, 'UpdateDocument', { id: documentId, input: { title: 'B', fields: { body: 'x' } } }), 'UpdateDocument');
  await receiver.waitUntil('the request', (requests) => requests.some((r) => r.path.endsWith('/fields')));
  const request = receiver.requests.find((r) => r.path.endsWith('/fields'))!;
  expect(JSON.parse(request.body)).toEqual({ changed: ['title', 'body'], first: 'title' });
  expect(verify(webhook.signingSecret, request)).toBeTruthy();
});

test('GitHub repository_dispatch and Slack shapes', async () => {
  const github = await createWebhook({
    url: `${receiver.url}/repos/acme/site/dispatches`,
    bodyContentType: 'application/vnd.github+json',
    headers: [{ name: 'Authorization', value: 'Bearer ghp_exampletoken0000', secret: true }],
    bodyTemplate: JSON.stringify({ event_type: 'cms-{{ webhook.trigger }}', client_payload: '{{ payload }}' }),
  });
  const slack = await createWebhook({
    url: `${receiver.url}/services/T000/B000/XXXX`,
    bodyTemplate: JSON.stringify({ text: ':rocket: *{{ document.title }}* was published in {{ project.name }} ({{ blueprint.name }})' }),
  });
  const { documentId } = await publish('Launch day', '/repos/acme/site/dispatches');
  await receiver.waitUntil('the request', (requests) => requests.some((r) => r.path.endsWith('/services/T000/B000/XXXX') && r.body.includes('Launch day')));
  const dispatch = receiver.requests.find((r) => r.path.endsWith('/repos/acme/site/dispatches') && r.body.includes(documentId))!;
  expect(dispatch.headers['content-type']).toBe('application/vnd.github+json');
  const sent = JSON.parse(dispatch.body);
  expect(sent.event_type).toBe('cms-document_update');
  // client_payload is the contract payload itself, as an object.
  expect(Object.keys(sent.client_payload)).toEqual(['event_id', 'metadata', 'scope', 'webhook']);
  expect(sent.client_payload.metadata.document_id).toBe(documentId);
  expect(sent.client_payload.webhook).toEqual({ trigger: 'document_update', webhook_id: github.id });
  expect(verify(github.signingSecret, dispatch)).toEqual(sent);

  const message = receiver.requests.find((r) => r.path.endsWith('/services/T000/B000/XXXX') && r.body.includes('Launch day'))!;
  expect(JSON.parse(message.body)).toEqual({ text: ':rocket: *Launch day* was published in Acme site (Blog post)' });
  expect(verify(slack.signingSecret, message)).toBeTruthy();
});

test('TEXT format with its content type; test send and replay send the rendered body', async () => {
  const webhook = await createWebhook({
    url: `${receiver.url}/text`,
    bodyFormat: 'TEXT',
    bodyContentType: 'text/plain; charset=utf-8',
    bodyTemplate: '{{ document.title }} is now {{ document.status | downcase }} (event {{ event_id }})',
  });
  const { request } = await publish('Plain', '/text');
  expect(request.headers['content-type']).toBe('text/plain; charset=utf-8');
  expect(request.body).toBe(`Plain is now published (event ${request.headers['webhook-id']})`);
  expect(verify(webhook.signingSecret, request)).toBe(request.body);

  const test = ok(
    await api.gql(admin, `mutation($id: ID!) { testWebhook(id: $id) { id eventId requestBody requestHeaders { name value } success } }`, { id: webhook.id }),
    'testWebhook',
  ).testWebhook;
  expect(test.success).toBe(true);
  expect(test.requestBody).toBe(`Sample document is now published (event ${test.eventId})`);
  const sentTest = receiver.requests.find((r) => r.headers['webhook-id'] === test.eventId)!;
  expect(sentTest.body).toBe(test.requestBody);
  expect(sentTest.headers['content-type']).toBe('text/plain; charset=utf-8');
  expect(test.requestHeaders).toContainEqual({ name: 'content-type', value: 'text/plain; charset=utf-8' });

  // A replay sends the logged body with its logged content type, even after the template changed.
  const call = await loggedCall(request.headers['webhook-id'], webhook.id);
  ok(await api.gql(admin, `mutation($id: ID!, $i: WebhookUpdateInput!) { updateWebhook(id: $id, input: $i) { id } }`, { id: webhook.id, i: { bodyTemplate: null } }), 'update');
  const before = receiver.requests.length;
  const replay = ok(await api.gql(admin, `mutation($id: ID!) { replayWebhookCall(id: $id) { requestBody } }`, { id: call.id }), 'replay').replayWebhookCall;
  expect(replay.requestBody).toBe(request.body);
  const replayed = receiver.requests[before];
  expect(replayed.body).toBe(request.body);
  expect(replayed.headers['content-type']).toBe('text/plain; charset=utf-8');
  expect(verify(webhook.signingSecret, replayed)).toBe(request.body);
});

test('bad templates are refused with BAD_USER_INPUT naming the placeholder or the rule; nothing is stored', async () => {
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ bodyTemplate: '{"a": "{{ document.titel }}"}' }, 'input.bodyTemplate', /unknown placeholder "document\.titel"/],
    [{ bodyTemplate: '{"a": ' }, 'input.bodyTemplate', /must be valid JSON/],
    [{ bodyTemplate: '{% include "/etc/passwd" %}', bodyFormat: 'TEXT' }, 'input.bodyTemplate', /tags .* are not allowed/],
    [{ bodyTemplate: '{"a": "{% for i in (1..9) %}{{ i }}{% endfor %}"}' }, 'input.bodyTemplate', /tags .* are not allowed/],
    [{ bodyTemplate: '{"a": "{{ project.name | date: \\"%s\\" }}"}' }, 'input.bodyTemplate', /filter "date" .* is not allowed/],
    [{ bodyTemplate: '{"a": "{{ constructor.constructor }}"}' }, 'input.bodyTemplate', /unknown placeholder "constructor\.constructor"/],
    [{ bodyTemplate: 'x', bodyFormat: 'TEXT', bodyContentType: 'text/plain\nx: y' }, 'input.bodyContentType', /must be a media type/],
    [{ bodyTemplate: '{}', bodyContentType: 'text/html' }, 'input.bodyContentType', /application\/json or a \+json type/],
  ];
  const count = async () => (await api.app.dataSource.query(`SELECT count(*)::int AS n FROM webhook`))[0].n;
  const before = await count();
  for (const [input, field, message] of cases) {
    const result = await api.gql(admin, `mutation($p: ID!, $i: WebhookInput!) { createWebhook(projectId: $p, input: $i) { id } }`, {
      p: projectId,
      i: { name: 'bad', url: receiver.url, triggers: ['DOCUMENT_UPDATE'], ...input },
    });
    expect([codeOf(result), result.errors?.[0]?.extensions?.field]).toEqual(['BAD_USER_INPUT', field]);
    expect(result.errors![0].message).toMatch(message);
  }
  expect(await count()).toBe(before);

  // An update re-checks the template against a new format.
  const webhook = await createWebhook({ bodyFormat: 'TEXT', bodyTemplate: 'Hi {{ project.name }}' });
  const update = await api.gql(admin, `mutation($id: ID!, $i: WebhookUpdateInput!) { updateWebhook(id: $id, input: $i) { id } }`, { id: webhook.id, i: { bodyFormat: 'JSON' } });
  expect(codeOf(update)).toBe('BAD_USER_INPUT');
  expect(update.errors![0].message).toMatch(/^input\.bodyTemplate: must be valid JSON/);
});

test('previewWebhookBody: a real event, a sample, a draft; other projects are NOT_FOUND', async () => {
  const webhook = await createWebhook({ url: `${receiver.url}/preview`, bodyTemplate: '{"t": "{{ document.title }}", "s": "{{ metadata.document_status_id }}"}' });
  const { request } = await publish('Previewed', '/preview');
  const eventId = request.headers['webhook-id'];
  const query = `query($w: ID!, $e: ID, $d: WebhookBodyDraftInput) { previewWebhookBody(webhookId: $w, eventId: $e, draft: $d) { body contentType eventId trigger sample } }`;

  const real = ok(await api.gql(admin, query, { w: webhook.id, e: eventId }), 'preview').previewWebhookBody;
  expect(real).toEqual({ body: request.body, contentType: 'application/json', eventId, trigger: 'DOCUMENT_UPDATE', sample: false });

  const sample = ok(await api.gql(admin, query, { w: webhook.id }), 'preview').previewWebhookBody;
  expect(sample.sample).toBe(true);
  expect(JSON.parse(sample.body)).toEqual({ t: 'Sample document', s: 2 });

  const draft = ok(await api.gql(admin, query, { w: webhook.id, e: eventId, d: { bodyTemplate: '{{ document.title }}!', bodyFormat: 'TEXT' } }), 'preview').previewWebhookBody;
  expect(draft).toMatchObject({ body: 'Previewed!', contentType: 'text/plain; charset=utf-8' });
  const none = ok(await api.gql(admin, query, { w: webhook.id, e: eventId, d: { bodyTemplate: null } }), 'preview').previewWebhookBody;
  expect(JSON.parse(none.body).event_id).toBe(eventId);

  const badDraft = await api.gql(admin, query, { w: webhook.id, d: { bodyTemplate: '{"a": "{{ nope }}"}' } });
  expect([codeOf(badDraft), badDraft.errors?.[0]?.extensions?.field]).toEqual(['BAD_USER_INPUT', 'draft.bodyTemplate']);

  const otherProject = ok(await api.op(admin, 'CreateProject', { input: { name: 'Other' } }), 'CreateProject').createProject.id;
  const otherBlueprint = ok(await api.op(admin, 'CreateBlueprint', { projectId: otherProject, input: { name: 'X' } }), 'CreateBlueprint').createBlueprint.id;
  ok(await api.op(admin, 'CreateDocument', { projectId: otherProject, input: { blueprintId: otherBlueprint, title: 'elsewhere' } }), 'CreateDocument');
  const [foreign] = await api.app.dataSource.query(`SELECT id FROM domain_event WHERE project_id = $1 LIMIT 1`, [otherProject]);
  expect(codeOf(await api.gql(admin, query, { w: webhook.id, e: foreign.id }))).toBe('NOT_FOUND');
  expect(codeOf(await api.gql(admin, query, { w: webhook.id, e: '00000000-0000-4000-8000-000000000000' }))).toBe('NOT_FOUND');

  // Webhooks are ADMIN and up: an EDITOR may not see what they send; a non-member learns nothing.
  const editor = await createUserWithToken(api, 'editor-preview@example.com', projectId, 'EDITOR');
  const outsider = await createUserWithToken(api, 'outsider-preview@example.com', otherProject, 'OWNER');
  expect(codeOf(await api.gql(editor.token, query, { w: webhook.id }))).toBe('FORBIDDEN');
  expect(codeOf(await api.gql(outsider.token, query, { w: webhook.id }))).toBe('NOT_FOUND');
});

test('a deleted document keeps its title; a retry sends the body rendered at fan-out, whatever the template became', async () => {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  // The first attempt is answered 503 only once the template has changed; the retry succeeds.
  const flaky = await startReceiver(async (_request, index) => {
    if (index === 0) {
      await released;
      return { status: 503 };
    }
    return { status: 204 };
  });
  try {
    const webhook = await createWebhook({ url: flaky.url, triggers: ['DOCUMENT_DELETE'], bodyFormat: 'TEXT', bodyTemplate: 'gone: {{ document.title }}' });
    const documentId = ok(await api.op(admin, 'CreateDocument', { projectId, input: { blueprintId, title: 'Doomed' } }), 'CreateDocument').createDocument.id;
    ok(await api.op(admin, 'DeleteDocument', { id: documentId }), 'DeleteDocument');
    await flaky.waitForCount(1);
    ok(
      await api.gql(admin, `mutation($id: ID!, $i: WebhookUpdateInput!) { updateWebhook(id: $id, input: $i) { id } }`, { id: webhook.id, i: { bodyTemplate: 'changed' } }),
      'update',
    );
    release();
    const [first, retry] = await flaky.waitForCount(2);
    expect(first.body).toBe('gone: Doomed');
    expect(retry.body).toBe('gone: Doomed');
    expect(retry.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(retry.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(verify(webhook.signingSecret, retry)).toBe('gone: Doomed');
  } finally {
    release();
    await flaky.close();
  }
});

test('a body that cannot be rendered is a logged failed attempt, never sent and not retried', async () => {
  // Under the caps as written (14 KiB) and with sample values, over 256 KiB with a 1,000-character title.
  const huge = await createWebhook({ url: `${receiver.url}/huge`, bodyFormat: 'TEXT', bodyTemplate: '{{document.title}}'.repeat(800) });
  await createWebhook({ url: `${receiver.url}/title`, bodyFormat: 'TEXT', bodyTemplate: '{{ document.title }}' });
  const title = 'x'.repeat(1000);
  const { request } = await publish(title, '/title');
  expect(request.body).toBe(title);
  const eventId = request.headers['webhook-id'];
  const call = await loggedCall(eventId, huge.id);
  const [row] = await api.app.dataSource.query(`SELECT success, error, response_status_code, request_headers, request_body FROM webhook_call WHERE id = $1`, [call.id]);
  expect(row).toEqual({ success: false, error: 'body template: the rendered body is over 256 KiB', response_status_code: null, request_headers: [], request_body: '' });
  const [delivery] = await api.app.dataSource.query(`SELECT status, attempts FROM webhook_delivery WHERE webhook_id = $1 AND event_id = $2`, [huge.id, eventId]);
  expect(delivery).toEqual({ status: 'failed', attempts: 1 });
  expect(receiver.requests.filter((r) => r.path.endsWith('/huge'))).toHaveLength(0);
  const replay = await api.gql(admin, `mutation($id: ID!) { replayWebhookCall(id: $id) { id } }`, { id: call.id });
  expect(codeOf(replay)).toBe('BAD_USER_INPUT');
});

test('the event stream (cms-webhooks listen --webhook) carries the rendered body and its content type', async () => {
  const webhook = await createWebhook({ url: `${receiver.url}/stream`, bodyFormat: 'TEXT', bodyTemplate: '{{ document.title }} in {{ project.name }}' });
  const client = wsClient(api, admin);
  type Result = FormattedExecutionResult<{ webhookEvents: { id: string; body: string; contentType: string } }>;
  const stream = client.iterate({ query: SDK_OPERATIONS.WebhookEvents, operationName: 'WebhookEvents', variables: { projectId, webhookId: webhook.id } }) as AsyncIterableIterator<Result>;
  try {
    await waitUntil('the stream to start', () => api.app.services.eventFeed.subscriberCount() === 1);
    const { request } = await publish('Streamed', '/stream');
    const result = await within('the streamed event', stream.next(), 10_000);
    expect(result.value.data!.webhookEvents).toMatchObject({ id: request.headers['webhook-id'], body: 'Streamed in Acme site', contentType: 'text/plain; charset=utf-8' });
    expect(request.body).toBe('Streamed in Acme site');
  } finally {
    await stream.return?.();
    await client.dispose();
  }
});
