import { FormattedExecutionResult } from 'graphql';
import { Client } from 'graphql-ws';
import { Webhook as Verifier } from 'standardwebhooks';
import { OPERATIONS } from '../../sdk/operations';
import { assertValidPayload } from '../delivery/contract';
import { codeOf, createProject, createUserWithToken, ok, startTestApi, TestApi, wsClient } from '../support/api';
import { ReceivedRequest, Receiver, ReplyFunction, startReceiver } from '../support/receiver';
import { waitUntil, within } from '../support/wait';

/**
 * The sends a person asks for, through the API as the frontend sends them: a test send, a
 * replay of a logged call, and recovery of deliveries that failed for good. Real receivers on
 * loopback, the real delivery worker, a fresh database.
 */
let api: TestApi;
let projectId: string; // test sends and authorization
let replayProjectId: string;
let recoverProjectId: string;
let otherProjectId: string;
const tokens: Record<'viewer' | 'editor' | 'admin' | 'outsider', string> = { viewer: '', editor: '', admin: '', outsider: '' };
const receivers: Receiver[] = [];
const clients: Client[] = [];

const RECOVER = `mutation($id: ID!, $since: DateTime!) { recoverWebhook(id: $id, since: $since) }`;
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

async function receiver(reply?: ReplyFunction): Promise<Receiver> {
  const r = await startReceiver(reply);
  receivers.push(r);
  return r;
}

function verifies(secret: string, request: ReceivedRequest): void {
  expect(() => new Verifier(secret).verify(request.body, request.headers)).not.toThrow();
}

async function createBlueprint(project: string, name: string): Promise<string> {
  const data = ok(await api.op(tokens.admin, 'CreateBlueprint', { projectId: project, input: { name, fields: [{ name: 'body', type: 'string' }] } }), 'CreateBlueprint');
  return data.createBlueprint.id;
}

async function createWebhook(project: string, input: Record<string, unknown>): Promise<{ id: string; signingSecret: string }> {
  const data = ok(await api.op(tokens.admin, 'CreateWebhook', { projectId: project, input: { name: 'hook', ...input } }), 'CreateWebhook');
  return data.createWebhook;
}

async function createDocument(project: string, blueprintId: string, title: string): Promise<string> {
  const data = ok(await api.op(tokens.admin, 'CreateDocument', { projectId: project, input: { blueprintId, title } }), 'CreateDocument');
  return data.createDocument.id;
}

async function callsOf(project: string, filter: Record<string, unknown>): Promise<any[]> {
  const data = ok(await api.op(tokens.admin, 'WebhookCalls', { projectId: project, filter, first: 100 }), 'WebhookCalls');
  return data.webhookCalls.edges.map((e: { node: unknown }) => e.node);
}

const eventIdOf = (request: ReceivedRequest): string => JSON.parse(request.body).event_id;

beforeAll(async () => {
  // Two attempts, 10 ms apart: a delivery fails for good within moments.
  api = await startTestApi({ WEBHOOK_RETRY_SCHEDULE: '10ms' });
  projectId = await createProject(api, 'Sends');
  replayProjectId = await createProject(api, 'Replays');
  recoverProjectId = await createProject(api, 'Recovery');
  otherProjectId = await createProject(api, 'Elsewhere');
  const admin = await createUserWithToken(api, 'admin@sends.test', projectId, 'ADMIN');
  const viewer = await createUserWithToken(api, 'viewer@sends.test', projectId, 'VIEWER');
  const editor = await createUserWithToken(api, 'editor@sends.test', projectId, 'EDITOR');
  for (const project of [replayProjectId, recoverProjectId]) {
    for (const [user, role] of [[admin, 'ADMIN'], [viewer, 'VIEWER'], [editor, 'EDITOR']] as const) {
      ok(await api.op(api.adminToken, 'AssignProjectMember', { projectId: project, userId: user.id, role }), 'AssignProjectMember');
    }
  }
  tokens.admin = admin.token;
  tokens.viewer = viewer.token;
  tokens.editor = editor.token;
  tokens.outsider = (await createUserWithToken(api, 'outsider@sends.test', otherProjectId, 'OWNER')).token;
});

afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  await Promise.all(receivers.map((r) => r.close()));
  await api?.close();
});

describe('TestWebhook', () => {
  it('sends a signed, schema-valid sample of the first trigger and returns the exact request as its log row', async () => {
    const hook = await receiver(() => ({ status: 200, body: 'ok' }));
    const webhook = await createWebhook(projectId, { url: hook.url, triggers: ['DOCUMENT_UPDATE', 'DOCUMENT_CREATE'] });
    const result = await api.op(tokens.admin, 'TestWebhook', { id: webhook.id });
    expect(codeOf(result)).toBe('OK');
    const call = result.data.testWebhook;
    expect(hook.requests).toHaveLength(1);
    const [request] = hook.requests;
    expect(call).toMatchObject({
      webhookId: webhook.id,
      projectId,
      kind: 'TEST',
      attempt: 1,
      success: true,
      error: null,
      trigger: 'DOCUMENT_UPDATE',
      requestMethod: 'POST',
      requestUrl: hook.url,
      responseStatusCode: 200,
      responseBody: 'ok',
      nextRetryAt: null,
    });
    expect(call.requestBody).toBe(request.body);
    assertValidPayload(request.body);
    const body = JSON.parse(request.body);
    expect(body.webhook).toEqual({ trigger: 'document_update', webhook_id: webhook.id });
    expect(body.scope).toEqual({ project_id: projectId });
    expect(body.event_id).toBe(call.eventId);
    expect(request.headers['webhook-id']).toBe(call.eventId);
    expect(request.headers['content-type']).toBe('application/json');
    verifies(webhook.signingSecret, request);
    // The logged headers are the ones sent, signature included.
    const logged = Object.fromEntries(call.requestHeaders.map((h: { name: string; value: string }) => [h.name, h.value]));
    expect(logged['webhook-signature']).toBe(request.headers['webhook-signature']);
    expect(logged['webhook-timestamp']).toBe(request.headers['webhook-timestamp']);
  });

  it('sends the trigger it is given', async () => {
    const hook = await receiver();
    const webhook = await createWebhook(projectId, { url: hook.url, triggers: ['DOCUMENT_UPDATE', 'DOCUMENT_CREATE'] });
    for (const [trigger, lower] of [['DOCUMENT_CREATE', 'document_create'], ['PROJECT_MEMBER_ASSIGNED', 'project_member_assigned']]) {
      const result = await api.op(tokens.admin, 'TestWebhook', { id: webhook.id, trigger });
      expect(codeOf(result)).toBe('OK');
      expect(result.data.testWebhook).toMatchObject({ kind: 'TEST', trigger, success: true });
      const request = hook.requests[hook.requests.length - 1];
      expect(result.data.testWebhook.requestBody).toBe(request.body);
      assertValidPayload(request.body);
      expect(JSON.parse(request.body).webhook.trigger).toBe(lower);
      verifies(webhook.signingSecret, request);
    }
    expect(hook.requests).toHaveLength(2);
    // Each test send is its own event.
    expect(new Set(hook.requests.map(eventIdOf)).size).toBe(2);
  });

  it('reports a 500 as a failed call and does not retry it', async () => {
    const hook = await receiver(() => ({ status: 500, headers: { 'content-type': 'text/plain' }, body: 'receiver broke' }));
    const webhook = await createWebhook(projectId, { url: hook.url, triggers: ['DOCUMENT_CREATE'] });
    const first = await api.op(tokens.admin, 'TestWebhook', { id: webhook.id });
    expect(codeOf(first)).toBe('OK');
    expect(first.data.testWebhook).toMatchObject({ kind: 'TEST', attempt: 1, success: false, responseStatusCode: 500, responseBody: 'receiver broke', nextRetryAt: null });
    expect(first.data.testWebhook.error).toEqual(expect.stringMatching(/500/));
    expect(hook.requests).toHaveLength(1);
    // With a 10 ms retry schedule, a retry of the first would have arrived long before this second send's answer.
    const second = await api.op(tokens.admin, 'TestWebhook', { id: webhook.id });
    expect(second.data.testWebhook).toMatchObject({ success: false, attempt: 1 });
    expect(hook.requests).toHaveLength(2);
    expect(hook.requests.map(eventIdOf)).toEqual([first.data.testWebhook.eventId, second.data.testWebhook.eventId]);
    const logged = await callsOf(projectId, { webhookId: webhook.id });
    expect(logged.map((c) => c.id).sort()).toEqual([first.data.testWebhook.id, second.data.testWebhook.id].sort());
    // Nothing queued for retry.
    const queued = await api.app.dataSource.query(`SELECT count(*)::int AS n FROM webhook_delivery WHERE webhook_id = $1`, [webhook.id]);
    expect(queued[0].n).toBe(0);
  });

  it('sends to a disabled webhook', async () => {
    const hook = await receiver();
    const webhook = await createWebhook(projectId, { url: hook.url, triggers: ['BLUEPRINT_CREATE'], enabled: false });
    const result = await api.op(tokens.admin, 'TestWebhook', { id: webhook.id });
    expect(codeOf(result)).toBe('OK');
    expect(result.data.testWebhook).toMatchObject({ kind: 'TEST', success: true, trigger: 'BLUEPRINT_CREATE' });
    expect(hook.requests).toHaveLength(1);
    expect(JSON.parse(hook.requests[0].body).webhook.trigger).toBe('blueprint_create');
    verifies(webhook.signingSecret, hook.requests[0]);
  });
});

describe('ReplayWebhookCall', () => {
  function subscribe(token: string, variables: { projectId: string; webhookId?: string }) {
    const client = wsClient(api, token);
    clients.push(client);
    return client.iterate({ query: OPERATIONS.WebhookCallLogged, operationName: 'WebhookCallLogged', variables });
  }

  it("re-sends a real event's exact body to the current URL and headers, same webhook-id, freshly signed, logged and published", async () => {
    const first = await receiver();
    const second = await receiver();
    const blueprintId = await createBlueprint(replayProjectId, 'Article');
    const webhook = await createWebhook(replayProjectId, {
      url: first.url,
      triggers: ['DOCUMENT_CREATE'],
      headers: [{ name: 'X-Version', value: 'one' }],
    });
    const documentId = await createDocument(replayProjectId, blueprintId, 'Replayed');
    await first.waitUntil('the event delivery', (r) => r.length === 1, 10_000);
    const original = first.requests[0];
    expect(original.headers['x-version']).toBe('one');
    expect(JSON.parse(original.body).metadata.document_id).toBe(documentId);

    let events: any[] = [];
    await waitUntil('the event call in the log', async () => {
      events = await callsOf(replayProjectId, { webhookId: webhook.id, kind: 'EVENT' });
      return events.length === 1;
    });
    const event = events[0];
    expect(event).toMatchObject({ kind: 'EVENT', success: true, trigger: 'DOCUMENT_CREATE', requestBody: original.body });

    const updated = await api.op(tokens.admin, 'UpdateWebhook', {
      id: webhook.id,
      input: { url: second.url, headers: [{ name: 'X-Version', value: 'two' }, { name: 'X-Api-Key', value: 'replay-secret-7d1c', secret: true }] },
    });
    expect(codeOf(updated)).toBe('OK');

    const live = subscribe(tokens.admin, { projectId: replayProjectId, webhookId: webhook.id });
    await waitUntil('the subscription to start', () => api.app.services.webhookCallPubSub.subscriberCount() === 1);

    const result = await api.op(tokens.admin, 'ReplayWebhookCall', { id: event.id });
    expect(codeOf(result)).toBe('OK');
    const replay = result.data.replayWebhookCall;
    expect(first.requests).toHaveLength(1);
    expect(second.requests).toHaveLength(1);
    const [again] = second.requests;
    expect(again.body).toBe(original.body);
    expect(again.headers['webhook-id']).toBe(original.headers['webhook-id']);
    expect(Number(again.headers['webhook-timestamp'])).toBeGreaterThanOrEqual(Number(original.headers['webhook-timestamp']));
    expect(again.headers['x-version']).toBe('two');
    expect(again.headers['x-api-key']).toBe('replay-secret-7d1c');
    verifies(webhook.signingSecret, again);

    expect(replay).toMatchObject({
      kind: 'REPLAY',
      eventId: event.eventId,
      webhookId: webhook.id,
      trigger: 'DOCUMENT_CREATE',
      success: true,
      requestUrl: second.url,
      requestBody: original.body,
    });
    expect(replay.id).not.toBe(event.id);
    const loggedHeaders = Object.fromEntries(replay.requestHeaders.map((h: { name: string; value: string }) => [h.name, h.value]));
    expect(loggedHeaders['X-Version']).toBe('two');
    expect(loggedHeaders['X-Api-Key']).not.toContain('replay-secret');

    const replays = await callsOf(replayProjectId, { kind: 'REPLAY' });
    expect(replays.map((c) => c.id)).toEqual([replay.id]);

    const published = (await within('the replay on the live log', live.next())) as IteratorResult<FormattedExecutionResult<any>>;
    expect(published.done).toBe(false);
    expect(published.value.errors).toBeUndefined();
    expect(published.value.data.webhookCallLogged).toMatchObject({ id: replay.id, kind: 'REPLAY', eventId: event.eventId, requestBody: original.body });
    await live.return?.();
  });
});

describe('recoverWebhook', () => {
  let webhookId: string;
  const failedEvents = new Set<string>();
  const succeededEvents = new Set<string>();
  let hook: Receiver;
  let healed = false;

  const deliveryCounts = async (): Promise<Record<string, number>> => {
    const rows: Array<{ status: string; n: number }> = await api.app.dataSource.query(
      `SELECT status, count(*)::int AS n FROM webhook_delivery WHERE webhook_id = $1 GROUP BY status`,
      [webhookId],
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  };
  const seen = (eventId: string) => hook.requests.filter((r) => eventIdOf(r) === eventId).length;

  beforeAll(async () => {
    const failingBlueprint = await createBlueprint(recoverProjectId, 'Failing');
    const healthyBlueprint = await createBlueprint(recoverProjectId, 'Healthy');
    // Which events fail is decided by the body: documents of the failing blueprint, until healed.
    hook = await receiver((request) => {
      const failing = !healed && JSON.parse(request.body).metadata.blueprint_id === failingBlueprint;
      return failing ? { status: 500, body: 'down' } : { status: 200, body: 'ok' };
    });
    webhookId = (await createWebhook(recoverProjectId, { url: hook.url, triggers: ['DOCUMENT_CREATE'] })).id;
    const failing = await Promise.all([1, 2, 3].map((i) => createDocument(recoverProjectId, failingBlueprint, `failing ${i}`)));
    const healthy = await Promise.all([1, 2].map((i) => createDocument(recoverProjectId, healthyBlueprint, `healthy ${i}`)));
    await waitUntil(
      '3 failed and 2 succeeded deliveries',
      async () => {
        const counts = await deliveryCounts();
        return counts.failed === 3 && counts.succeeded === 2 && !counts.pending;
      },
      15_000,
    );
    for (const request of hook.requests) {
      const body = JSON.parse(request.body);
      if (failing.includes(body.metadata.document_id)) failedEvents.add(body.event_id);
      else if (healthy.includes(body.metadata.document_id)) succeededEvents.add(body.event_id);
      else throw new Error(`an event of an unknown document: ${request.body}`);
    }
    expect(failedEvents.size).toBe(3);
    expect(succeededEvents.size).toBe(2);
    // Two attempts each for the failed ones (the schedule's length + 1), one for the others.
    for (const id of failedEvents) expect(seen(id)).toBe(2);
    for (const id of succeededEvents) expect(seen(id)).toBe(1);
  });

  it.each([
    ['viewer', 'FORBIDDEN'],
    ['editor', 'FORBIDDEN'],
    ['outsider', 'NOT_FOUND'],
  ] as const)('a %s gets %s and nothing is queued', async (who, code) => {
    const result = await api.gql(tokens[who], RECOVER, { id: webhookId, since: new Date(Date.now() - HOUR_MS).toISOString() });
    expect(codeOf(result)).toBe(code);
    expect(result.data?.recoverWebhook ?? null).toBeNull();
    expect(await deliveryCounts()).toEqual({ failed: 3, succeeded: 2 });
  });

  it('refuses a `since` more than 14 days back, naming the argument', async () => {
    const result = await api.gql(tokens.admin, RECOVER, { id: webhookId, since: new Date(Date.now() - 15 * DAY_MS).toISOString() });
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0].message).toMatch(/^since\b/);
    expect(result.errors?.[0].extensions?.field).toBe('since');
    expect(await deliveryCounts()).toEqual({ failed: 3, succeeded: 2 });
  });

  it('recovers only deliveries created since `since`', async () => {
    const result = await api.gql(tokens.admin, RECOVER, { id: webhookId, since: new Date(Date.now() + 1000).toISOString() });
    expect(codeOf(result)).toBe('OK');
    expect(result.data.recoverWebhook).toBe(0);
    expect(await deliveryCounts()).toEqual({ failed: 3, succeeded: 2 });
  });

  it('re-delivers exactly the deliveries that failed for good, once each, as attempt 3', async () => {
    const before = hook.requests.length;
    healed = true;
    const result = await api.gql(tokens.admin, RECOVER, { id: webhookId, since: new Date(Date.now() - HOUR_MS).toISOString() });
    expect(codeOf(result)).toBe('OK');
    expect(result.data.recoverWebhook).toBe(3);
    await waitUntil('every delivery to succeed', async () => (await deliveryCounts()).succeeded === 5, 10_000);
    expect(await deliveryCounts()).toEqual({ succeeded: 5 });
    // Every attempt is logged after its request was answered, so the receiver has them all by now.
    const resent = hook.requests.slice(before).map(eventIdOf);
    expect(resent.sort()).toEqual([...failedEvents].sort());
    for (const id of failedEvents) expect(seen(id)).toBe(3);
    for (const id of succeededEvents) expect(seen(id)).toBe(1);

    const calls = await callsOf(recoverProjectId, { webhookId });
    const third = calls.filter((c) => c.attempt === 3);
    expect(third.map((c) => c.eventId).sort()).toEqual([...failedEvents].sort());
    for (const call of third) expect(call).toMatchObject({ kind: 'EVENT', success: true, responseStatusCode: 200, nextRetryAt: null });
    expect(calls).toHaveLength(3 * 3 + 2);
    const rows: Array<{ event_id: string; attempts: number }> = await api.app.dataSource.query(
      `SELECT event_id, attempts FROM webhook_delivery WHERE webhook_id = $1`,
      [webhookId],
    );
    for (const row of rows) expect(row.attempts).toBe(failedEvents.has(row.event_id) ? 3 : 1);

    // Nothing failed is left: a second recovery queues nothing.
    const again = await api.gql(tokens.admin, RECOVER, { id: webhookId, since: new Date(Date.now() - HOUR_MS).toISOString() });
    expect(again.data.recoverWebhook).toBe(0);
  });
});

describe('authorization of test sends and replays', () => {
  let webhookId: string;
  let callId: string;
  let hook: Receiver;

  beforeAll(async () => {
    hook = await receiver();
    webhookId = (await createWebhook(projectId, { url: hook.url, triggers: ['DOCUMENT_CREATE'] })).id;
    const tested = await api.op(tokens.admin, 'TestWebhook', { id: webhookId });
    callId = ok(tested, 'TestWebhook').testWebhook.id;
  });

  it.each([
    ['viewer', 'FORBIDDEN'],
    ['editor', 'FORBIDDEN'],
    ['outsider', 'NOT_FOUND'],
  ] as const)('a %s gets %s and nothing is sent', async (who, code) => {
    const before = hook.requests.length;
    const tested = await api.op(tokens[who], 'TestWebhook', { id: webhookId });
    expect(codeOf(tested)).toBe(code);
    expect(tested.data?.testWebhook ?? null).toBeNull();
    const replayed = await api.op(tokens[who], 'ReplayWebhookCall', { id: callId });
    expect(codeOf(replayed)).toBe(code);
    expect(replayed.data?.replayWebhookCall ?? null).toBeNull();
    expect(hook.requests.length).toBe(before);
  });

  it('an ADMIN may do both', async () => {
    const before = hook.requests.length;
    const tested = await api.op(tokens.admin, 'TestWebhook', { id: webhookId });
    expect(codeOf(tested)).toBe('OK');
    const replayed = await api.op(tokens.admin, 'ReplayWebhookCall', { id: callId });
    expect(codeOf(replayed)).toBe('OK');
    expect(replayed.data.replayWebhookCall).toMatchObject({ kind: 'REPLAY', success: true });
    expect(hook.requests.length).toBe(before + 2);
  });

  it('unknown and malformed ids', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    expect(codeOf(await api.op(tokens.admin, 'TestWebhook', { id: missing }))).toBe('NOT_FOUND');
    expect(codeOf(await api.op(tokens.admin, 'ReplayWebhookCall', { id: missing }))).toBe('NOT_FOUND');
    expect(codeOf(await api.gql(tokens.admin, RECOVER, { id: missing, since: new Date().toISOString() }))).toBe('NOT_FOUND');
    const bad = await api.op(tokens.admin, 'ReplayWebhookCall', { id: 'nope' });
    expect(bad.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'id' } });
  });
});
