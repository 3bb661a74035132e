import { FormattedExecutionResult, Kind, parse, print } from 'graphql';
import { Client } from 'graphql-ws';
import { OPERATIONS } from '../../sdk/operations';
import { codeOf, contractDocument, createProject, createUserWithToken, createWebhook, startTestApi, TestApi, wsClient } from '../support/api';
import { callRow, insertCalls } from '../support/fixtures';
import { waitUntil, within } from '../support/wait';

/**
 * The live log over graphql-ws, end to end: real PostgreSQL NOTIFY, a second server process
 * (a second app on the same database), the contract's WebhookCallLogged document unchanged.
 */
let api: TestApi;
let second: TestApi;
let projectId: string;
let otherProjectId: string;
let hookA: string;
let hookB: string;
let otherHook: string;
const tokens: Record<'viewer' | 'editor' | 'admin' | 'outsider', string> = { viewer: '', editor: '', admin: '', outsider: '' };
const clients: Client[] = [];

type Logged = { webhookCallLogged: { id: string; webhookId: string; requestBody: string } };
type Result = FormattedExecutionResult<Logged, unknown>;

function connect(target: TestApi, token: string): Client {
  const client = wsClient(target, token);
  clients.push(client);
  return client;
}

function subscribe(client: Client, variables: { projectId: string; webhookId?: string }) {
  return client.iterate<Logged>({ query: OPERATIONS.WebhookCallLogged, operationName: 'WebhookCallLogged', variables });
}

/** The next result of a subscription, or a failure naming what did not arrive. */
async function nextResult(stream: AsyncIterator<Result>, what: string): Promise<Result> {
  const result = await within(what, stream.next());
  if (result.done) throw new Error(`the subscription ended while waiting for ${what}`);
  return result.value;
}

const subscribers = (target: TestApi) => target.app.services.webhookCallPubSub.subscriberCount();

beforeAll(async () => {
  api = await startTestApi();
  // The same bootstrap token: a different one would replace the first (that is how it rotates).
  second = await startTestApi({ BOOTSTRAP_ADMIN_TOKEN: api.adminToken }, api.databaseUrl);
  projectId = await createProject(api, 'Live');
  otherProjectId = await createProject(api, 'Elsewhere');
  hookA = await createWebhook(api, projectId, 'a');
  hookB = await createWebhook(api, projectId, 'b');
  otherHook = await createWebhook(api, otherProjectId, 'other');
  tokens.viewer = (await createUserWithToken(api, 'viewer@live.test', projectId, 'VIEWER')).token;
  tokens.editor = (await createUserWithToken(api, 'editor@live.test', projectId, 'EDITOR')).token;
  tokens.admin = (await createUserWithToken(api, 'admin@live.test', projectId, 'ADMIN')).token;
  tokens.outsider = (await createUserWithToken(api, 'outsider@live.test', otherProjectId, 'OWNER')).token;
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  await waitUntil('every subscriber to be gone', () => subscribers(api) === 0 && subscribers(second) === 0);
});

afterAll(async () => {
  await second?.close();
  await api?.close();
});

test('the SDK sends the contract document', () => {
  const contract = parse(contractDocument()).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === 'WebhookCallLogged');
  expect(print(parse(OPERATIONS.WebhookCallLogged).definitions[0])).toBe(print(contract!));
});

test('a call committed after subscribing arrives with every field of the fragment', async () => {
  const stream = subscribe(connect(api, tokens.admin), { projectId });
  await waitUntil('the subscription to start', () => subscribers(api) === 1);
  const row = callRow(projectId, hookA, { requestBody: '{"live":true}', success: false, error: 'HTTP 500', responseStatusCode: 500 });
  await insertCalls(api.app.dataSource, [row]);
  const result = await nextResult(stream, 'the committed call');
  expect(result.errors).toBeUndefined();
  expect(result.data?.webhookCallLogged).toMatchObject({
    id: row.id,
    webhookId: hookA,
    projectId,
    success: false,
    error: 'HTTP 500',
    responseStatusCode: 500,
    requestBody: '{"live":true}',
    trigger: 'DOCUMENT_CREATE',
    kind: 'EVENT',
    requestHeaders: row.requestHeaders,
  });
  await stream.return?.();
});

test('with webhookId, calls of other webhooks (and other projects) do not arrive', async () => {
  const stream = subscribe(connect(api, tokens.admin), { projectId, webhookId: hookA });
  await waitUntil('the subscription to start', () => subscribers(api) === 1);
  const before = api.app.services.webhookCallPubSub.stats();
  const ofB = callRow(projectId, hookB);
  const elsewhere = callRow(otherProjectId, otherHook);
  const ofA = callRow(projectId, hookA);
  // Three commits in this order; NOTIFYs arrive in commit order, so B's (or the other
  // project's) would come before A's if it were delivered at all.
  await insertCalls(api.app.dataSource, [ofB]);
  await insertCalls(api.app.dataSource, [elsewhere]);
  await insertCalls(api.app.dataSource, [ofA]);
  const result = await nextResult(stream, "webhook A's call");
  expect(result.data?.webhookCallLogged.id).toBe(ofA.id);
  // Rows nobody here listens to are not even loaded.
  const after = api.app.services.webhookCallPubSub.stats();
  expect(after.notifications - before.notifications).toBe(3);
  expect(after.loaded - before.loaded).toBe(1);
});

test('a call whose transaction rolled back never arrives', async () => {
  const stream = subscribe(connect(api, tokens.admin), { projectId });
  await waitUntil('the subscription to start', () => subscribers(api) === 1);
  const rolledBack = callRow(projectId, hookA, { requestBody: 'rolled back' });
  await expect(
    api.app.dataSource.transaction(async (m) => {
      await insertCalls(m, [rolledBack]);
      throw new Error('roll back');
    }),
  ).rejects.toThrow('roll back');
  const committed = callRow(projectId, hookA, { requestBody: 'committed' });
  await insertCalls(api.app.dataSource, [committed]);
  const result = await nextResult(stream, 'the committed call');
  expect(result.data?.webhookCallLogged).toMatchObject({ id: committed.id, requestBody: 'committed' });
});

test('a subscription receives calls logged by a second server process, in both directions', async () => {
  const onFirst = subscribe(connect(api, tokens.admin), { projectId });
  const onSecond = subscribe(connect(second, tokens.admin), { projectId });
  await waitUntil('both subscriptions to start', () => subscribers(api) === 1 && subscribers(second) === 1);
  const fromSecond = callRow(projectId, hookA, { requestBody: 'from the second process' });
  await insertCalls(second.app.dataSource, [fromSecond]);
  expect((await nextResult(onFirst, 'the call logged by the second process')).data?.webhookCallLogged.id).toBe(fromSecond.id);
  expect((await nextResult(onSecond, 'the call on its own process')).data?.webhookCallLogged.id).toBe(fromSecond.id);
  const fromFirst = callRow(projectId, hookB, { requestBody: 'from the first process' });
  await insertCalls(api.app.dataSource, [fromFirst]);
  expect((await nextResult(onSecond, 'the call logged by the first process')).data?.webhookCallLogged.id).toBe(fromFirst.id);
  expect((await nextResult(onFirst, 'the call on its own process')).data?.webhookCallLogged.id).toBe(fromFirst.id);
});

test.each([
  ['viewer', 'FORBIDDEN'],
  ['editor', 'FORBIDDEN'],
  ['outsider', 'NOT_FOUND'],
] as const)('a %s is refused with %s when the subscription starts', async (who, code) => {
  const stream = subscribe(connect(api, tokens[who]), { projectId });
  const result = await nextResult(stream, 'the refusal');
  expect(result.data ?? null).toBeNull();
  expect(result.errors?.[0]).toMatchObject({ extensions: { code } });
  expect(result.errors?.[0].message).not.toMatch(/\bat\b.*\.ts/); // no internals
  expect((await within('the end of the stream', stream.next())).done).toBe(true);
  expect(subscribers(api)).toBe(0);
});

test('malformed ids are BAD_USER_INPUT naming the argument', async () => {
  const stream = subscribe(connect(api, tokens.admin), { projectId, webhookId: 'nope' });
  const result = await nextResult(stream, 'the refusal');
  expect(result.errors?.[0]).toMatchObject({ message: 'webhookId: must be a UUID', extensions: { code: 'BAD_USER_INPUT', field: 'webhookId' } });
});

test('an unknown token is refused: the connection closes with 4401', async () => {
  const stream = subscribe(connect(api, 'cms_not-a-real-token'), { projectId });
  const closed = await within('the refusal', stream.next().then(() => undefined, (event: { code?: number; reason?: string }) => event));
  expect(closed?.code).toBe(4401);
  expect(closed?.reason).toMatch(/UNAUTHENTICATED/);
  expect(subscribers(api)).toBe(0);
});

test('a subscriber that leaves (complete, or a dropped socket) leaves nothing behind', async () => {
  const completed = subscribe(connect(api, tokens.admin), { projectId });
  const dropped = connect(api, tokens.admin);
  subscribe(dropped, { projectId, webhookId: hookA });
  await waitUntil('two subscriptions', () => subscribers(api) === 2);
  await completed.return?.();
  await waitUntil('the completed subscription to be removed', () => subscribers(api) === 1);
  dropped.terminate();
  await waitUntil('the dropped subscription to be removed', () => subscribers(api) === 0);
  // Nothing is loaded for a project nobody watches any more.
  const before = api.app.services.webhookCallPubSub.stats();
  await insertCalls(api.app.dataSource, [callRow(projectId, hookA)]);
  await waitUntil('the unwatched call to be announced', () => api.app.services.webhookCallPubSub.stats().notifications > before.notifications);
  const probe = subscribe(connect(api, tokens.admin), { projectId });
  await waitUntil('the probe subscription', () => subscribers(api) === 1);
  const marker = callRow(projectId, hookA);
  await insertCalls(api.app.dataSource, [marker]);
  expect((await nextResult(probe, 'the marker')).data?.webhookCallLogged.id).toBe(marker.id);
  expect(api.app.services.webhookCallPubSub.stats().loaded - before.loaded).toBe(1);
});

test('a member who loses the role loses the stream, without waiting for a call', async () => {
  const member = await createUserWithToken(api, 'demoted@live.test', projectId, 'ADMIN');
  const stream = subscribe(connect(api, member.token), { projectId });
  await waitUntil('the subscription to start', () => subscribers(api) === 1);
  const first = callRow(projectId, hookA);
  await insertCalls(api.app.dataSource, [first]);
  expect((await nextResult(stream, 'the first call')).data?.webhookCallLogged.id).toBe(first.id);
  const demoted = await api.op(api.adminToken, 'AssignProjectMember', { projectId, userId: member.id, role: 'EDITOR' });
  expect(codeOf(demoted)).toBe('OK');
  const ended = await within('the stream to end', stream.next().then(() => undefined, (errors: Array<{ extensions?: { code?: string } }>) => errors));
  expect(ended?.[0]?.extensions?.code).toBe('FORBIDDEN');
  await waitUntil('the stream to be removed', () => subscribers(api) === 0);
});

test('when the LISTEN connection drops, it reconnects and calls arrive again', async () => {
  const before = [api.app.services.webhookCallPubSub.stats().reconnects, second.app.services.webhookCallPubSub.stats().reconnects];
  const killed: unknown[] = await api.app.dataSource.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cms-call-log' AND datname = current_database()`,
  );
  expect(killed).toHaveLength(2); // one LISTEN connection per process, no more
  await waitUntil('both processes to reconnect', () =>
    api.app.services.webhookCallPubSub.stats().reconnects > before[0] && second.app.services.webhookCallPubSub.stats().reconnects > before[1],
  );
  const stream = subscribe(connect(api, tokens.admin), { projectId });
  await waitUntil('the subscription to start', () => subscribers(api) === 1);
  const row = callRow(projectId, hookA);
  await insertCalls(second.app.dataSource, [row]);
  expect((await nextResult(stream, 'a call after the reconnect')).data?.webhookCallLogged.id).toBe(row.id);
});
