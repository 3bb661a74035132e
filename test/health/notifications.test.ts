import { codeOf, createProject, createUserWithToken, ok, startTestApi, type TestApi } from '../support/api';
import { type Receiver, startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';
import { CREATE_ENDPOINT, createEndpoint, HEALTH_CHANGED, subscribed, testSend, verifiedEnvelope, type Watch, watchHealth, WEBHOOK_HEALTH } from './helpers';

/**
 * Failure notifications end to end, in one process: real receivers on loopback, the health
 * subscription over graphql-ws, notification endpoints whose requests verify with the
 * `standardwebhooks` package. Test sends drive the webhooks: each is one logged call whose
 * outcome is written (and the health decided) before the mutation answers.
 */
let api: TestApi;
const receivers: Receiver[] = [];
const watches: Watch[] = [];

beforeAll(async () => {
  api = await startTestApi({ WEBHOOK_FAILING_AFTER: '3', WEBHOOK_FAILING_RATE: '50', WEBHOOK_FAILING_RATE_MIN_CALLS: '20' });
});

afterEach(async () => {
  await Promise.all(watches.splice(0).map((w) => w.client.dispose()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

afterAll(async () => {
  await api?.close();
});

async function receiver(reply?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(reply);
  receivers.push(r);
  return r;
}

async function webhookTo(projectId: string, url: string, name = 'Search index'): Promise<string> {
  const created = await api.op(api.adminToken, 'CreateWebhook', { projectId, input: { name, url, triggers: ['DOCUMENT_CREATE'] } });
  return ok(created, 'createWebhook').createWebhook.id;
}

async function healthOf(webhookId: string) {
  return ok(await api.gql(api.adminToken, WEBHOOK_HEALTH, { id: webhookId }), 'webhook').webhook.health;
}

/** Notification deliveries queued so far, per type: queued in the transaction that changed the state. */
async function queuedNotifications(projectId: string): Promise<Record<string, number>> {
  const rows: Array<{ trigger: string; n: number }> = await api.app.dataSource.query(
    `SELECT trigger, count(*)::int AS n FROM webhook_delivery WHERE project_id = $1 AND kind = 'NOTIFICATION' GROUP BY trigger`,
    [projectId],
  );
  return Object.fromEntries(rows.map((r) => [r.trigger, r.n]));
}

test('failing after 3 failed calls, announced once on the subscription and to the endpoint; recovered once at the next success', async () => {
  const projectId = await createProject(api, 'Failing');
  const endpointReceiver = await receiver();
  const endpoint = await createEndpoint(api, projectId, endpointReceiver.url, { name: 'Ops' });
  expect(endpoint.types).toEqual(['WEBHOOK_FAILING', 'WEBHOOK_DISABLE_WARNING', 'WEBHOOK_DISABLED', 'WEBHOOK_RECOVERED']);
  let failing = true;
  const target = await receiver(() => ({ status: failing ? 503 : 204 }));
  const webhookId = await webhookTo(projectId, target.url);
  const watch = watchHealth(api, api.adminToken, projectId);
  watches.push(watch);
  await subscribed(api, projectId);

  expect(await testSend(api, webhookId)).toBe(false);
  expect(await testSend(api, webhookId)).toBe(false);
  expect(await healthOf(webhookId)).toMatchObject({ state: 'HEALTHY', consecutiveFailures: 2 });
  expect(await testSend(api, webhookId)).toBe(false);
  expect(await healthOf(webhookId)).toMatchObject({ state: 'FAILING', consecutiveFailures: 3, reason: '3 consecutive calls failed', failureRate: null });
  // More failures in the same episode announce nothing more.
  for (let i = 0; i < 4; i++) expect(await testSend(api, webhookId)).toBe(false);
  expect(await queuedNotifications(projectId)).toEqual({ 'webhook.failing': 1 });

  failing = false;
  expect(await testSend(api, webhookId)).toBe(true);
  expect(await testSend(api, webhookId)).toBe(true);
  expect(await healthOf(webhookId)).toMatchObject({ state: 'HEALTHY', consecutiveFailures: 0, reason: 'A call succeeded', failingSince: null });
  expect(await queuedNotifications(projectId)).toEqual({ 'webhook.failing': 1, 'webhook.recovered': 1 });

  await waitUntil('two changes on the subscription', () => watch.changes.length >= 2, 20_000);
  expect(watch.errors).toEqual([]);
  expect(watch.changes.map((c) => [c.webhookId, c.webhookName, c.previousState, c.state, c.type])).toEqual([
    [webhookId, 'Search index', 'HEALTHY', 'FAILING', 'WEBHOOK_FAILING'],
    [webhookId, 'Search index', 'FAILING', 'HEALTHY', 'WEBHOOK_RECOVERED'],
  ]);
  expect(watch.changes[0]).toMatchObject({ reason: '3 consecutive calls failed', consecutiveFailures: 3 });

  const [first, second] = await endpointReceiver.waitForCount(2, 20_000);
  const failingEnvelope = verifiedEnvelope(first, endpoint.signingSecret);
  const recoveredEnvelope = verifiedEnvelope(second, endpoint.signingSecret);
  expect(Object.keys(failingEnvelope)).toEqual(['type', 'version', 'event_id', 'created_at', 'data']);
  expect(failingEnvelope).toMatchObject({
    type: 'webhook.failing',
    version: 1,
    event_id: watch.changes[0].id,
    data: { project_id: projectId, webhook_id: webhookId, name: 'Search index', url: target.url, state: 'failing', previous_state: 'healthy', reason: '3 consecutive calls failed', consecutive_failures: 3 },
  });
  expect(first.headers['webhook-id']).toBe(watch.changes[0].id);
  expect(recoveredEnvelope).toMatchObject({ type: 'webhook.recovered', event_id: watch.changes[1].id, data: { state: 'healthy', previous_state: 'failing', consecutive_failures: 0 } });
  // Logged like any call, in the endpoint's own log, and kept out of the CMS webhooks' log.
  const calls = ok(
    await api.gql(api.adminToken, `query($p: ID!) { notificationCalls(projectId: $p, first: 10) { edges { node { endpointId type success eventId } } } }`, { p: projectId }),
    'notificationCalls',
  );
  expect(calls.notificationCalls.edges.map((e: any) => e.node).sort((a: any, b: any) => a.type.localeCompare(b.type))).toEqual([
    { endpointId: endpoint.id, type: 'WEBHOOK_FAILING', success: true, eventId: watch.changes[0].id },
    { endpointId: endpoint.id, type: 'WEBHOOK_RECOVERED', success: true, eventId: watch.changes[1].id },
  ]);
  const log = ok(await api.op(api.adminToken, 'WebhookCallsCount', { projectId }), 'webhookCalls');
  expect(log.webhookCalls.totalCount).toBe(9);
});

test('failure rate: half of at least 20 calls in the last hour, with never 3 failures in a row', async () => {
  const projectId = await createProject(api, 'Flaky');
  // Fails every other request, starting with the first.
  const target = await receiver((_request, index) => ({ status: index % 2 === 0 ? 500 : 204 }));
  const webhookId = await webhookTo(projectId, target.url, 'Flaky');
  let calls = 0;
  while ((await healthOf(webhookId)).state === 'HEALTHY') {
    if (calls === 60) throw new Error('still HEALTHY after 60 calls, half of them failed');
    await testSend(api, webhookId);
    calls++;
  }
  // The rule needs 20 calls (21 here: the 20th succeeded, and only a failure can trip it), a
  // few more if the hour turned during the test (the previous hour's calls weigh less).
  expect(calls).toBeGreaterThanOrEqual(21);
  const health = await healthOf(webhookId);
  expect(health.state).toBe('FAILING');
  expect(health.consecutiveFailures).toBe(1);
  expect(health.failureRate).toBeGreaterThanOrEqual(0.5);
  expect(health.reason).toMatch(/^\d+% of the calls of the last hour failed \(\d+ of \d+\)$/);
});

test('a notification endpoint that fails never notifies about itself', async () => {
  const projectId = await createProject(api, 'Loops');
  const broken = await receiver(() => ({ status: 500 }));
  const endpoint = await createEndpoint(api, projectId, broken.url);
  let failing = true;
  const target = await receiver(() => ({ status: failing ? 500 : 204 }));
  const webhookId = await webhookTo(projectId, target.url);
  for (let i = 0; i < 3; i++) await testSend(api, webhookId);
  failing = false;
  await testSend(api, webhookId);
  // Two notifications, each tried 3 times (the test retry schedule): 6 failed calls in a row,
  // twice the threshold.
  await broken.waitForCount(6, 20_000);
  await waitUntil('the endpoint to give up both', async () => {
    const [{ n }] = await api.app.dataSource.query(`SELECT count(*)::int AS n FROM webhook_delivery WHERE webhook_id = $1 AND status = 'failed'`, [endpoint.id]);
    return n === 2;
  });
  expect(await queuedNotifications(projectId)).toEqual({ 'webhook.failing': 1, 'webhook.recovered': 1 });
  const [{ n }] = await api.app.dataSource.query(`SELECT count(*)::int AS n FROM webhook_health_event WHERE webhook_id = $1`, [endpoint.id]);
  expect(n).toBe(0);
  // Not a webhook: not listed with them, not reachable as one.
  const listed = ok(await api.op(api.adminToken, 'Webhooks', { projectId }), 'webhooks').webhooks.map((w: { id: string }) => w.id);
  expect(listed).toEqual([webhookId]);
  expect(codeOf(await api.op(api.adminToken, 'Webhook', { id: endpoint.id }))).toBe('NOT_FOUND');
});

test('roles: ADMIN and up; a member lacking it gets FORBIDDEN, anyone else NOT_FOUND, on the subscription and every endpoint operation', async () => {
  const projectId = await createProject(api, 'Roles');
  const otherProject = await createProject(api, 'Elsewhere');
  const editor = (await createUserWithToken(api, 'editor@health.test', projectId, 'EDITOR')).token;
  const admin = (await createUserWithToken(api, 'admin@health.test', projectId, 'ADMIN')).token;
  const outsider = (await createUserWithToken(api, 'outsider@health.test', otherProject, 'OWNER')).token;
  const endpoint = await createEndpoint(api, projectId, 'https://example.com/ops');

  const update = `mutation($id: ID!) { updateNotificationEndpoint(id: $id, input: { enabled: false }) { id enabled } }`;
  const remove = `mutation($id: ID!) { deleteNotificationEndpoint(id: $id) }`;
  const list = `query($p: ID!) { notificationEndpoints(projectId: $p) { id } }`;
  const create = (token: string) => api.gql(token, CREATE_ENDPOINT, { projectId, input: { url: 'https://example.com/x' } });
  for (const [token, code] of [
    [editor, 'FORBIDDEN'],
    [outsider, 'NOT_FOUND'],
  ] as const) {
    expect(codeOf(await create(token))).toBe(code);
    expect(codeOf(await api.gql(token, list, { p: projectId }))).toBe(code);
    expect(codeOf(await api.gql(token, update, { id: endpoint.id }))).toBe(code);
    expect(codeOf(await api.gql(token, remove, { id: endpoint.id }))).toBe(code);
    const watch = watchHealth(api, token, projectId);
    watches.push(watch);
    await waitUntil('the subscription to be refused', () => watch.ended);
    expect(watch.errors.map((e) => e.extensions?.code)).toEqual([code]);
  }
  expect(ok(await api.gql(admin, list, { p: projectId }), 'list').notificationEndpoints).toEqual([{ id: endpoint.id }]);
  expect(ok(await api.gql(admin, update, { id: endpoint.id }), 'update').updateNotificationEndpoint).toEqual({ id: endpoint.id, enabled: false });
  const watch = watchHealth(api, admin, projectId);
  watches.push(watch);
  await subscribed(api, projectId);
  expect(watch.errors).toEqual([]);
  expect(ok(await api.gql(admin, remove, { id: endpoint.id }), 'delete').deleteNotificationEndpoint).toBe(true);
  expect(HEALTH_CHANGED).toContain('webhookHealthChanged');
});

test('bad input names the field and the rule; secret header values are masked', async () => {
  const projectId = await createProject(api, 'Input');
  const bad = async (input: Record<string, unknown>) => api.gql(api.adminToken, CREATE_ENDPOINT, { projectId, input });
  const empty = await bad({ url: 'https://example.com/a', types: [] });
  expect(codeOf(empty)).toBe('BAD_USER_INPUT');
  expect(empty.errors![0].message).toBe('input.types: must list at least one health event type');
  const url = await bad({ url: 'ftp://example.com/a' });
  expect(codeOf(url)).toBe('BAD_USER_INPUT');
  expect(url.errors![0].message).toMatch(/^input\.url: /);
  const created = ok(
    await bad({ url: 'https://example.com/a', types: ['WEBHOOK_DISABLED'], headers: [{ name: 'X-Ops-Key', value: 'a-very-secret-value-1234', secret: true }] }),
    'create',
  ).createNotificationEndpoint;
  expect(created.types).toEqual(['WEBHOOK_DISABLED']);
  expect(created.headers).toEqual([{ name: 'X-Ops-Key', value: '••••1234', secret: true }]);
  expect(created.signingSecret).toMatch(/^whsec_/);
});
