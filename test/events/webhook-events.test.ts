import { FormattedExecutionResult } from 'graphql';
import { Client as WsClient } from 'graphql-ws';
import { Client as PgClient } from 'pg';
import { SDK_OPERATIONS } from '../../sdk/operations';
import { NO_WEBHOOK_ID } from '../../src/events/webhook-event.service';
import { assertValidPayload } from '../delivery/contract';
import { createProject, createUserWithToken, ok, startTestApi, TestApi, wsClient } from '../support/api';
import { waitUntil, within } from '../support/wait';

/**
 * webhookEvents over graphql-ws against a real server and PostgreSQL: what `cms-webhooks
 * listen` is built on. The order and gap tests commit transactions by hand to force the
 * interleavings a busy server produces by chance.
 */
let api: TestApi;
let projectId: string;
let otherProjectId: string;
let articles: string;
let pages: string;
let filtered: string;
let otherWebhook: string;
const tokens: Record<'viewer' | 'editor' | 'outsider', string> = { viewer: '', editor: '', outsider: '' };
const clients: WsClient[] = [];

type Event = { id: string; projectId: string; webhookId: string | null; trigger: string; createdAt: string; body: string };
type Result = FormattedExecutionResult<{ webhookEvents: Event }, unknown>;
type Variables = { projectId: string; webhookId?: string; triggers?: readonly string[]; after?: string };

function subscribe(variables: Variables, token = api.adminToken): AsyncIterableIterator<Result> {
  const client = wsClient(api, token);
  clients.push(client);
  return client.iterate({ query: SDK_OPERATIONS.WebhookEvents, operationName: 'WebhookEvents', variables }) as AsyncIterableIterator<Result>;
}

async function nextEvent(stream: AsyncIterator<Result>, what: string, timeoutMs = 5000): Promise<Event> {
  const result = await within(what, stream.next(), timeoutMs);
  if (result.done) throw new Error(`the subscription ended while waiting for ${what}`);
  if (result.value.errors) throw new Error(`${what}: ${JSON.stringify(result.value.errors)}`);
  return result.value.data!.webhookEvents;
}

async function refusal(stream: AsyncIterator<Result>): Promise<{ message: string; extensions?: Record<string, unknown> }> {
  const result = await within('the refusal', stream.next());
  if (result.done || !result.value.errors) throw new Error(`expected a refusal, got ${JSON.stringify(result)}`);
  return result.value.errors[0] as { message: string; extensions?: Record<string, unknown> };
}

const streams = () => api.app.services.eventFeed.subscriberCount();
const started = (count: number) => waitUntil(`${count} stream(s) to start`, () => streams() === count);

async function createDocument(blueprintId: string, title: string, project = projectId): Promise<string> {
  return ok(await api.op(api.adminToken, 'CreateDocument', { projectId: project, input: { blueprintId, title } }), 'CreateDocument').createDocument.id;
}

/** The ids of a project's events, in stream order (the order the server promises). */
async function eventIds(project = projectId): Promise<string[]> {
  const rows: Array<{ id: string }> = await api.app.dataSource.query(`SELECT id FROM domain_event WHERE project_id = $1 ORDER BY tx_id, seq`, [project]);
  return rows.map((r) => r.id);
}

/** An outbox row written by hand (as the entity subscriber writes it) on a connection of its own. */
async function rawEventClient(): Promise<PgClient> {
  const client = new PgClient({ connectionString: api.databaseUrl });
  await client.connect();
  return client;
}
const insertEvent = (client: PgClient, title: string) =>
  client.query<{ id: string }>(
    `INSERT INTO domain_event (project_id, trigger, blueprint_id, metadata)
     VALUES ($1, 'document_create', $2::uuid, jsonb_build_object('blueprint_id', $3::text, 'document_id', gen_random_uuid()::text, 'document_status_id', 0, 'created_at', now(), 'title', $4::text))
     RETURNING id`,
    [projectId, articles, articles, title],
  );

beforeAll(async () => {
  api = await startTestApi();
  projectId = await createProject(api, 'Events');
  otherProjectId = await createProject(api, 'Elsewhere');
  const blueprint = async (name: string) =>
    ok(await api.op(api.adminToken, 'CreateBlueprint', { projectId, input: { name, fields: [] } }), 'CreateBlueprint').createBlueprint.id as string;
  articles = await blueprint('Article');
  pages = await blueprint('Page');
  const webhook = async (project: string, input: Record<string, unknown>) =>
    ok(await api.op(api.adminToken, 'CreateWebhook', { projectId: project, input: { name: 'w', url: 'http://127.0.0.1:9/hook', ...input } }), 'CreateWebhook')
      .createWebhook.id as string;
  filtered = await webhook(projectId, { triggers: ['DOCUMENT_CREATE', 'DOCUMENT_UPDATE'], blueprintIds: [articles] });
  otherWebhook = await webhook(otherProjectId, { triggers: ['DOCUMENT_CREATE'], enabled: false });
  tokens.viewer = (await createUserWithToken(api, 'viewer@events.test', projectId, 'VIEWER')).token;
  tokens.editor = (await createUserWithToken(api, 'editor@events.test', projectId, 'EDITOR')).token;
  tokens.outsider = (await createUserWithToken(api, 'outsider@events.test', otherProjectId, 'OWNER')).token;
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  await waitUntil('every stream to be gone', () => streams() === 0);
});

afterAll(async () => {
  await api?.close();
});

test("with webhookId: that webhook's events only, in order, each body exactly the one it is sent", async () => {
  const stream = subscribe({ projectId, webhookId: filtered });
  await started(1);
  const first = await createDocument(articles, 'a1');
  await createDocument(pages, 'not for this webhook');
  const second = await createDocument(articles, 'a2');
  const published = ok(await api.op(api.adminToken, 'SetDocumentStatus', { id: first, status: 'PUBLISHED' }), 'publish').setDocumentStatus.id;
  const received = [await nextEvent(stream, 'a1'), await nextEvent(stream, 'a2'), await nextEvent(stream, 'the publish')];
  expect(received.map((e) => [e.trigger, JSON.parse(e.body).metadata.document_id])).toEqual([
    ['DOCUMENT_CREATE', first],
    ['DOCUMENT_CREATE', second],
    ['DOCUMENT_UPDATE', published],
  ]);
  for (const event of received) {
    expect(event).toMatchObject({ projectId, webhookId: filtered });
    assertValidPayload(event.body);
    // The fan-out stored what the webhook is sent: the stream's body is the same string.
    await waitUntil('the delivery to exist', async () => (await api.app.dataSource.query(`SELECT 1 FROM webhook_delivery WHERE event_id = $1`, [event.id])).length > 0);
    const [delivery] = await api.app.dataSource.query(`SELECT body FROM webhook_delivery WHERE event_id = $1 AND webhook_id = $2`, [event.id, filtered]);
    expect(event.body).toBe(delivery.body);
  }
});

test('without a webhook: every trigger unless narrowed, bodies naming no webhook', async () => {
  const all = subscribe({ projectId });
  const updates = subscribe({ projectId, triggers: ['DOCUMENT_UPDATE'] });
  await started(2);
  const id = await createDocument(pages, 'p1');
  ok(await api.op(api.adminToken, 'SetDocumentStatus', { id, status: 'PUBLISHED' }), 'publish');
  expect([(await nextEvent(all, 'the create')).trigger, (await nextEvent(all, 'the update')).trigger]).toEqual(['DOCUMENT_CREATE', 'DOCUMENT_UPDATE']);
  const update = await nextEvent(updates, 'the update');
  expect(update).toMatchObject({ trigger: 'DOCUMENT_UPDATE', webhookId: null });
  expect(JSON.parse(update.body)).toMatchObject({ metadata: { document_id: id, document_status_id: 2 }, webhook: { trigger: 'document_update', webhook_id: NO_WEBHOOK_ID } });
  assertValidPayload(update.body);
});

test('with after: the events that followed it, then live ones, none twice and none missing, while saves go on', async () => {
  for (let i = 0; i < 5; i++) await createDocument(articles, `before ${i}`);
  const before = await eventIds();
  const after = before[before.length - 3];
  // Saves keep committing while the subscription replays and switches over to live events.
  let saving = true;
  const saved: string[] = [];
  const writer = (async () => {
    for (let i = 0; saving && i < 200; i++) saved.push(await createDocument(articles, `during ${i}`));
  })();
  await waitUntil('a few saves to commit', () => saved.length >= 3);
  const stream = subscribe({ projectId, after });
  await waitUntil('more saves after the subscription started', () => saved.length >= 15, 10_000);
  saving = false;
  await writer;
  const expected = (await eventIds()).slice(before.indexOf(after) + 1);
  const received: string[] = [];
  while (received.length < expected.length) received.push((await nextEvent(stream, `event ${received.length + 1} of ${expected.length}`)).id);
  expect(received).toEqual(expected);
  const live = await createDocument(articles, 'after the burst');
  expect(JSON.parse((await nextEvent(stream, 'the next live event')).body).metadata.document_id).toBe(live);
});

test('an event committed after a younger one is not passed over: both arrive, in position order', async () => {
  const stream = subscribe({ projectId });
  await started(1);
  const older = await rawEventClient();
  const younger = await rawEventClient();
  try {
    await older.query('BEGIN');
    const { rows: [slow] } = await insertEvent(older, 'slow');
    const { rows: [fast] } = await insertEvent(younger, 'fast'); // commits at once
    // Were the younger event handed out now, a stream resumed after it would never see the older one.
    await older.query('COMMIT');
    expect([(await nextEvent(stream, 'the older event')).id, (await nextEvent(stream, 'the younger event')).id]).toEqual([slow.id, fast.id]);
  } finally {
    await older.end();
    await younger.end();
  }
});

test('positions order as numbers, not as text: events whose sequence crosses a power of ten come in order', async () => {
  // The next ten events of one transaction get sequence numbers on both sides of 10^k.
  await api.app.dataSource.query(
    `SELECT setval(pg_get_serial_sequence('domain_event', 'seq'), power(10, ceil(log(last_value + 10)))::bigint - 5) FROM domain_event_seq_seq`,
  );
  const stream = subscribe({ projectId });
  await started(1);
  const rows: Array<{ id: string }> = await api.app.dataSource.query(
    `INSERT INTO domain_event (project_id, trigger, blueprint_id, metadata)
     SELECT $1, 'document_create', $2::uuid, jsonb_build_object('blueprint_id', $3::text, 'document_id', gen_random_uuid()::text, 'document_status_id', 0)
       FROM generate_series(1, 10)
     RETURNING id, seq`,
    [projectId, articles, articles],
  );
  const inOrder: string[] = (await api.app.dataSource.query(`SELECT id FROM domain_event WHERE id = ANY($1) ORDER BY seq`, [rows.map((r) => r.id)])).map(
    (r: { id: string }) => r.id,
  );
  const live: string[] = [];
  while (live.length < 10) live.push((await nextEvent(stream, `live event ${live.length + 1}`)).id);
  expect(live).toEqual(inOrder);
  const replay = subscribe({ projectId, after: inOrder[0] });
  const replayed: string[] = [];
  while (replayed.length < 9) replayed.push((await nextEvent(replay, `replayed event ${replayed.length + 1}`)).id);
  expect(replayed).toEqual(inOrder.slice(1));
});

test('an event whose transaction rolls back never arrives', async () => {
  const stream = subscribe({ projectId });
  await started(1);
  const client = await rawEventClient();
  try {
    await client.query('BEGIN');
    await insertEvent(client, 'rolled back');
    await client.query('ROLLBACK');
  } finally {
    await client.end();
  }
  const kept = await createDocument(articles, 'kept');
  expect(JSON.parse((await nextEvent(stream, 'the committed event')).body).metadata.document_id).toBe(kept);
});

test.each([
  ['viewer', 'FORBIDDEN'],
  ['editor', 'FORBIDDEN'],
  ['outsider', 'NOT_FOUND'],
] as const)('a %s is refused with %s', async (who, code) => {
  expect(await refusal(subscribe({ projectId }, tokens[who]))).toMatchObject({ extensions: { code } });
  expect(streams()).toBe(0);
});

test('an ADMIN demoted while streaming is cut off at once with FORBIDDEN, pushed by the access NOTIFY', async () => {
  const admin = await createUserWithToken(api, `streamer-${Date.now()}@events.test`, projectId, 'ADMIN');
  const stream = subscribe({ projectId }, admin.token);
  await started(1);
  ok(await api.op(api.adminToken, 'AssignProjectMember', { projectId, userId: admin.id, role: 'VIEWER' }), 'AssignProjectMember');
  // No event is needed to notice: the stream ends on the access change itself, with the
  // error graphql-ws sends for a subscription that fails once running.
  await expect(within('the stream to end', stream.next())).rejects.toEqual([expect.objectContaining({ extensions: { code: 'FORBIDDEN' } })]);
  await started(0);
});

test.each([
  ['a malformed after', { after: 'nope' }, 'BAD_USER_INPUT', 'after: must be a UUID'],
  ['no triggers at all', { triggers: [] }, 'BAD_USER_INPUT', 'triggers: must name at least one trigger (or be left out for all)'],
  ['an after that is no event of the project', { after: '5a0b0f3e-6a55-4c3b-9d7e-1f2a3b4c5d6e' }, 'NOT_FOUND', 'Event not found'],
] as const)('%s is refused', async (_what, variables, code, message) => {
  expect(await refusal(subscribe({ projectId, ...variables }))).toMatchObject({ message, extensions: { code } });
});

test("another project's webhook or event is NOT_FOUND, like a missing one", async () => {
  expect(await refusal(subscribe({ projectId, webhookId: otherWebhook }))).toMatchObject({ message: 'Webhook not found', extensions: { code: 'NOT_FOUND' } });
  const elsewhere = await createDocument(
    ok(await api.op(api.adminToken, 'CreateBlueprint', { projectId: otherProjectId, input: { name: 'X', fields: [] } }), 'CreateBlueprint').createBlueprint.id,
    'elsewhere',
    otherProjectId,
  );
  const [event] = await api.app.dataSource.query(`SELECT id FROM domain_event WHERE metadata->>'document_id' = $1`, [elsewhere]);
  expect(await refusal(subscribe({ projectId, after: event.id }))).toMatchObject({ message: 'Event not found' });
});

test('after more than 10000 events back is refused, naming the limit', async () => {
  const project = await createProject(api, 'Busy');
  await api.app.dataSource.query(
    `INSERT INTO domain_event (project_id, trigger, blueprint_id, metadata)
     SELECT $1, 'project_member_assigned', NULL, '{"blueprint_id":"","document_id":"","document_status_id":null}'::jsonb FROM generate_series(1, 10002)`,
    [project],
  );
  const ids = await eventIds(project);
  expect(await refusal(subscribe({ projectId: project, after: ids[ids.length - 10_001 - 1] }))).toMatchObject({
    extensions: { code: 'BAD_USER_INPUT', field: 'after' },
    message: 'after: must be one of the last 10000 events of the project; subscribe without it to start from now',
  });
  // Exactly 10000 back is still replayed.
  const stream = subscribe({ projectId: project, after: ids[ids.length - 10_000 - 1] });
  // Counting 10000 rows back first takes a moment on a loaded machine.
  expect((await nextEvent(stream, 'the first replayed event', 15_000)).trigger).toBe('PROJECT_MEMBER_ASSIGNED');
});
