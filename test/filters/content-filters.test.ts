import { Client } from 'pg';
import { CmsClient } from '../../sdk/client';
import { SDK_OPERATIONS } from '../../sdk/operations';
import { codeOf, createProject, createUserWithToken, ok, startTestApi, TestApi, wsClient } from '../support/api';
import { Receiver, startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';

/**
 * Content filters end to end: GraphQL in, real fan-out, real loopback receivers out. "Not
 * sent" is read from the queue itself: once a control webhook without filters has received a
 * marker event made after everything else, every earlier event has been fanned out, so the
 * deliveries a filtered webhook has are all it will ever get for them.
 */
let api: TestApi;
let db: Client;
let projectId: string;
let blueprintId: string;
const receivers: Receiver[] = [];

const WEBHOOK_FIELDS = `id documentStatuses changedFields actorFilter { mode userIds tokenIds }`;

beforeAll(async () => {
  api = await startTestApi({ WEBHOOK_PER_ENDPOINT_CONCURRENCY: '1' });
  db = new Client({ connectionString: api.databaseUrl });
  await db.connect();
  projectId = await createProject(api, 'filters');
  blueprintId = ok(await api.op(api.adminToken, 'CreateBlueprint', { projectId, input: { name: 'Post', fields: [{ name: 'body', type: 'text' }, { name: 'slug', type: 'text' }] } }), 'blueprint')
    .createBlueprint.id;
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await db?.end();
  await api?.close();
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

async function createHook(name: string, url: string, input: Record<string, unknown>) {
  const result = await api.gql(api.adminToken, `mutation($p: ID!, $i: WebhookInput!) { createWebhook(projectId: $p, input: $i) { ${WEBHOOK_FIELDS} } }`, {
    p: projectId,
    i: { name, url, ...input },
  });
  return ok(result, `createWebhook ${name}`).createWebhook;
}

/** Document ids the webhook has deliveries for, in the order they were queued. */
async function queuedDocuments(webhookId: string): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT body::json->'metadata'->>'document_id' AS document_id, body::json->'webhook'->>'trigger' AS trigger
       FROM webhook_delivery WHERE webhook_id = $1 ORDER BY created_at, id`,
    [webhookId],
  );
  return rows.map((r) => `${r.trigger}:${r.document_id}`);
}

/** A marker change, and the wait until the control webhook got it: everything before it is fanned out. */
async function settle(control: Receiver, cms: CmsClient): Promise<void> {
  const marker = await cms.createDocument(projectId, { blueprintId, title: 'marker' });
  await control.waitUntil('the marker event', (requests) => requests.some((r) => JSON.parse(r.body).metadata.document_id === marker.id));
}

function documentsIn(r: Receiver): string[] {
  return r.requests.map((req) => {
    const body = JSON.parse(req.body);
    return `${body.webhook.trigger}:${body.metadata.document_id}`;
  });
}

test('documentStatuses [PUBLISHED]: a publish is sent, a draft save and a draft edit are not', async () => {
  const admin = new CmsClient({ url: api.url, token: api.adminToken });
  const [control, published] = [await receiver(), await receiver()];
  await createHook('control', control.url, { triggers: ['DOCUMENT_CREATE'] });
  const hook = await createHook('deploy', published.url, {
    triggers: ['DOCUMENT_CREATE', 'DOCUMENT_FIELD_UPDATE', 'DOCUMENT_UPDATE'],
    documentStatuses: ['PUBLISHED'],
  });
  expect(hook.documentStatuses).toEqual(['PUBLISHED']);

  const doc = await admin.createDocument(projectId, { blueprintId, title: 'draft', fields: { body: 'a' } });
  await admin.updateDocument(doc.id, { fields: { body: 'b' } });
  await admin.setDocumentStatus(doc.id, 'PUBLISHED');
  await published.waitForCount(1);
  await settle(control, admin);

  expect(documentsIn(published)).toEqual([`document_update:${doc.id}`]);
  expect(JSON.parse(published.requests[0].body).metadata.document_status_id).toBe(2);
  expect(await queuedDocuments(hook.id)).toEqual([`document_update:${doc.id}`]);
});

test('webhookEvents with a webhook (what cms-webhooks listen --webhook forwards) applies its filters too', async () => {
  const admin = new CmsClient({ url: api.url, token: api.adminToken });
  const hook = await createHook('listen deploy', 'https://example.com/deploy', { triggers: ['DOCUMENT_CREATE', 'DOCUMENT_UPDATE'], documentStatuses: ['PUBLISHED'] });
  const client = wsClient(api, api.adminToken);
  try {
    const stream = client.iterate({ query: SDK_OPERATIONS.WebhookEvents, operationName: 'WebhookEvents', variables: { projectId, webhookId: hook.id } });
    const first = stream.next();
    await waitUntil('the stream to open', () => api.app.services.eventFeed.subscriberCount() > 0);
    const doc = await admin.createDocument(projectId, { blueprintId, title: 'draft' });
    await admin.setDocumentStatus(doc.id, 'PUBLISHED');
    const { value } = await first;
    const body = JSON.parse((value as any).data.webhookEvents.body);
    expect({ trigger: body.webhook.trigger, document: body.metadata.document_id, status: body.metadata.document_status_id }).toEqual({
      trigger: 'document_update',
      document: doc.id,
      status: 2,
    });
    await stream.return?.();
  } finally {
    await client.dispose();
  }
});

test('changedFields: a field update is sent only when a named field changed (title counts)', async () => {
  const admin = new CmsClient({ url: api.url, token: api.adminToken });
  const [control, changed] = [await receiver(), await receiver()];
  await createHook('control', control.url, { triggers: ['DOCUMENT_CREATE'] });
  const hook = await createHook('slug watcher', changed.url, { triggers: ['DOCUMENT_FIELD_UPDATE'], changedFields: ['slug', 'title'] });
  expect(hook.changedFields).toEqual(['slug', 'title']);

  const doc = await admin.createDocument(projectId, { blueprintId, title: 't', fields: { body: 'a', slug: 's' } });
  await admin.updateDocument(doc.id, { fields: { body: 'b' } });
  await admin.updateDocument(doc.id, { fields: { slug: 's2' } });
  await admin.updateDocument(doc.id, { title: 't2' });
  await changed.waitForCount(2);
  await settle(control, admin);

  expect(changed.requests.map((r) => JSON.parse(r.body).metadata.changed_fields)).toEqual([['slug'], ['title']]);
  expect(await queuedDocuments(hook.id)).toHaveLength(2);
});

test('actorFilter: include and exclude, by user and by token', async () => {
  const editor = await createUserWithToken(api, 'editor@example.com', projectId, 'EDITOR');
  const other = await createUserWithToken(api, 'other@example.com', projectId, 'EDITOR');
  const second = ok(await api.op(editor.token, 'CreateApiToken', { name: 'ci' }), 'second token').createApiToken;
  const firstTokenId = (ok(await api.gql(editor.token, `{ apiTokens { id name } }`), 'tokens').apiTokens as Array<{ id: string; name: string }>).find(
    (t) => t.name === 'test',
  )!.id;

  const control = await receiver();
  await createHook('control', control.url, { triggers: ['DOCUMENT_CREATE'] });
  const filters: Record<string, { mode: string; userIds?: string[]; tokenIds?: string[] }> = {
    includeUser: { mode: 'INCLUDE', userIds: [editor.id] },
    excludeUser: { mode: 'EXCLUDE', userIds: [editor.id] },
    includeToken: { mode: 'INCLUDE', tokenIds: [firstTokenId] },
    excludeToken: { mode: 'EXCLUDE', tokenIds: [firstTokenId] },
  };
  const hooks: Record<string, { id: string; r: Receiver }> = {};
  for (const [name, actorFilter] of Object.entries(filters)) {
    const r = await receiver();
    const created = await createHook(name, r.url, { triggers: ['DOCUMENT_CREATE'], actorFilter });
    expect(created.actorFilter).toEqual({ mode: actorFilter.mode, userIds: actorFilter.userIds ?? [], tokenIds: actorFilter.tokenIds ?? [] });
    hooks[name] = { id: created.id, r };
  }

  const viaFirst = await new CmsClient({ url: api.url, token: editor.token }).createDocument(projectId, { blueprintId, title: 'first token' });
  const viaSecond = await new CmsClient({ url: api.url, token: second.token }).createDocument(projectId, { blueprintId, title: 'second token' });
  const byOther = await new CmsClient({ url: api.url, token: other.token }).createDocument(projectId, { blueprintId, title: 'someone else' });
  await settle(control, new CmsClient({ url: api.url, token: api.adminToken }));

  const expected = {
    includeUser: [viaFirst.id, viaSecond.id],
    excludeUser: [byOther.id],
    includeToken: [viaFirst.id],
    excludeToken: [viaSecond.id, byOther.id],
  };
  for (const [name, ids] of Object.entries(expected)) {
    const queued = (await queuedDocuments(hooks[name].id)).map((d) => d.split(':')[1]);
    // The marker (by the admin) passes the EXCLUDE filters too.
    expect({ name, queued: queued.filter((id) => ids.includes(id)) }).toEqual({ name, queued: ids });
    expect({ name, extra: queued.filter((id) => !ids.includes(id)).length }).toEqual({ name, extra: name.startsWith('exclude') ? 1 : 0 });
    await hooks[name].r.waitForCount(queued.length);
  }
});

test('validation names the field and the rule; nothing is saved', async () => {
  const outsider = await createUserWithToken(api, 'outsider@example.com');
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ documentStatuses: [] }, 'input.documentStatuses'],
    [{ documentStatuses: ['PUBLISHED', 'PUBLISHED'] }, 'input.documentStatuses[1]'],
    [{ changedFields: [] }, 'input.changedFields'],
    [{ changedFields: [' body'] }, 'input.changedFields[0]'],
    [{ changedFields: ['body', 'bdoy'] }, 'input.changedFields[1]'],
    [{ actorFilter: { mode: 'INCLUDE' } }, 'input.actorFilter'],
    [{ actorFilter: { mode: 'INCLUDE', userIds: ['nope'] } }, 'input.actorFilter.userIds[0]'],
    [{ actorFilter: { mode: 'EXCLUDE', userIds: [outsider.id] } }, 'input.actorFilter.userIds[0]'],
    [{ actorFilter: { mode: 'EXCLUDE', tokenIds: [outsider.id] } }, 'input.actorFilter.tokenIds[0]'],
  ];
  const before = ok(await api.op(api.adminToken, 'Webhooks', { projectId }), 'webhooks').webhooks.length;
  for (const [input, field] of cases) {
    const result = await api.gql(api.adminToken, `mutation($p: ID!, $i: WebhookInput!) { createWebhook(projectId: $p, input: $i) { id } }`, {
      p: projectId,
      i: { name: 'bad', url: 'https://example.com/h', triggers: ['DOCUMENT_CREATE'], ...input },
    });
    expect({ input, code: codeOf(result), field: result.errors?.[0]?.extensions?.field }).toEqual({ input, code: 'BAD_USER_INPUT', field });
    expect(result.errors![0].message.startsWith(`${field}: `)).toBe(true);
  }
  expect(ok(await api.op(api.adminToken, 'Webhooks', { projectId }), 'webhooks').webhooks.length).toBe(before);
});

test('update: omitted keeps a filter, null removes it', async () => {
  const created = await createHook('update me', 'https://example.com/u', {
    triggers: ['DOCUMENT_UPDATE'],
    documentStatuses: ['PUBLISHED', 'ARCHIVED'],
    changedFields: ['body'],
  });
  const update = (input: Record<string, unknown>) =>
    api.gql(api.adminToken, `mutation($id: ID!, $i: WebhookUpdateInput!) { updateWebhook(id: $id, input: $i) { ${WEBHOOK_FIELDS} } }`, { id: created.id, i: input });
  const kept = ok(await update({ name: 'renamed' }), 'rename').updateWebhook;
  expect(kept).toMatchObject({ documentStatuses: ['PUBLISHED', 'ARCHIVED'], changedFields: ['body'], actorFilter: null });
  const cleared = ok(await update({ documentStatuses: null }), 'clear').updateWebhook;
  expect(cleared).toMatchObject({ documentStatuses: null, changedFields: ['body'] });
  const refused = await update({ changedFields: [], actorFilter: { mode: 'EXCLUDE', userIds: [], tokenIds: [] } });
  expect(codeOf(refused)).toBe('BAD_USER_INPUT');
  const reread = ok(await api.gql(api.adminToken, `query($id: ID!) { webhook(id: $id) { ${WEBHOOK_FIELDS} } }`, { id: created.id }), 'reread').webhook;
  expect(reread).toMatchObject({ documentStatuses: null, changedFields: ['body'], actorFilter: null });
});
