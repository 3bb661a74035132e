import { DataSource } from 'typeorm';
import WebSocket from 'ws';
import { startTestApi, TestApi } from '../support/api';
import { createTestDatabase } from '../support/database';
import { startReceiver, Receiver } from '../support/receiver';
import { startTcpProxy, TcpProxy } from '../support/tcp-proxy';
import { waitUntil } from '../support/wait';
import { captureLog } from '../support/log';

/**
 * PostgreSQL going away under a running server, as an outage does: the app reaches the
 * database through a loopback proxy that the test cuts and restores, while the test's own
 * connection goes straight to the server and sees what was really stored.
 */
let proxy: TcpProxy;
let api: TestApi;
let direct: DataSource;
let receiver: Receiver;
const held: Array<() => void> = [];
const captured = captureLog();
const logs = captured.lines;

beforeAll(async () => {
  const db = await createTestDatabase('outage');
  direct = db.dataSource;
  const target = new URL(db.url);
  proxy = await startTcpProxy(target.hostname, Number(target.port));
  receiver = await startReceiver(() => new Promise((resolve) => held.push(() => resolve({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' }))));
  api = await startTestApi({ WEBHOOK_POLL_INTERVAL_MS: '100' }, proxy.proxied(db.url), captured.log);
}, 60_000);

afterAll(async () => {
  proxy.restore();
  for (const release of held.splice(0)) release();
  await api?.close();
  await receiver?.close();
  await direct?.destroy();
  await proxy?.close();
});

afterEach(() => proxy.restore());

async function post(token: string | null, query: string): Promise<{ status: number; body: any }> {
  const res = await fetch(api.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, body: await res.json() };
}

describe('PostgreSQL unavailable', () => {
  test('GraphQL answers SERVICE_UNAVAILABLE with HTTP 503, and works again once the database is back', async () => {
    expect((await post(api.adminToken, '{ me { email } }')).body.data.me.email).toBe('admin@localhost');
    proxy.cut();
    // With no token there is nothing to look up: that answer needs no database.
    expect((await post(null, '{ me { email } }')).body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    for (const token of [api.adminToken, 'cms_unknown']) {
      const answer = await post(token, '{ me { email } }');
      expect(answer.status).toBe(503);
      expect(answer.body.errors).toHaveLength(1);
      expect(answer.body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      expect(answer.body.errors[0].message).not.toMatch(/ECONN|Context creation|127\.0\.0\.1|postgres/i);
    }
    const health = await fetch(api.url.replace('/graphql', '/healthz'));
    expect(health.status).toBe(503);
    proxy.restore();
    await waitUntil('GraphQL answers again', async () => (await post(api.adminToken, '{ me { email } }')).status === 200, 10_000);
    expect((await post(api.adminToken, '{ me { email } }')).body).toEqual({ data: { me: { email: 'admin@localhost' } } });
  });

  test('an attempt whose outcome cannot be recorded is kept and logged once the database is back', async () => {
    const project = await api.op(api.adminToken, 'CreateProject', { input: { name: 'outage' } });
    const projectId = project.data.createProject.id;
    const webhook = await api.op(api.adminToken, 'CreateWebhook', {
      projectId,
      input: { name: 'held', url: receiver.url, triggers: ['BLUEPRINT_CREATE'] },
    });
    const webhookId = webhook.data.createWebhook.id;
    await api.op(api.adminToken, 'CreateBlueprint', { projectId, input: { name: 'Post' } });

    // The receiver holds the request; the database goes away while it does.
    await receiver.waitUntil('the attempt in flight', (r) => r.length === 1 && held.length === 1, 10_000);
    proxy.cut();
    held.shift()!();
    await waitUntil('the worker noticed it could not record the attempt', () => logs.some((l) => /kept in memory/.test(l)), 10_000);
    const calls = async () => direct.query(`SELECT success, attempt, response_status_code FROM webhook_call WHERE webhook_id = $1`, [webhookId]);
    expect(await calls()).toEqual([]);

    proxy.restore();
    await waitUntil('the kept attempt is in the log', async () => (await calls()).length > 0, 15_000);
    expect(await calls()).toEqual([{ success: true, attempt: 1, response_status_code: 200 }]);
    const deliveries = await direct.query(`SELECT status, attempts, leased_by FROM webhook_delivery WHERE webhook_id = $1`, [webhookId]);
    expect(deliveries).toEqual([{ status: 'succeeded', attempts: 1, leased_by: null }]);
    // Recorded as delivered, so it was not sent a second time.
    expect(receiver.requests).toHaveLength(1);
  }, 60_000);

  test('a test send made while the database goes away answers 503 and is logged once it is back', async () => {
    const project = await api.op(api.adminToken, 'CreateProject', { input: { name: 'outage sends' } });
    const projectId = project.data.createProject.id;
    const webhook = await api.op(api.adminToken, 'CreateWebhook', {
      projectId,
      input: { name: 'test sends', url: receiver.url, triggers: ['DOCUMENT_CREATE'], enabled: false },
    });
    const webhookId = webhook.data.createWebhook.id;
    const before = receiver.requests.length;

    const sending = api.op(api.adminToken, 'TestWebhook', { id: webhookId });
    await receiver.waitUntil('the test send in flight', (r) => r.length === before + 1 && held.length === 1, 10_000);
    proxy.cut();
    held.shift()!();
    const answer = await sending;
    expect(answer.status).toBe(503);
    expect(answer.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(answer.errors?.[0].message).toMatch(/sent.*written when the database is back/);

    proxy.restore();
    const calls = async () => direct.query(`SELECT kind, success, response_status_code FROM webhook_call WHERE webhook_id = $1`, [webhookId]);
    await waitUntil('the test send is in the log', async () => (await calls()).length > 0, 15_000);
    expect(await calls()).toEqual([{ kind: 'TEST', success: true, response_status_code: 200 }]);
  }, 60_000);

  test('a subscription opened while the database is away is closed with 1013 (try again later)', async () => {
    proxy.cut();
    const socket = new WebSocket(api.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${api.adminToken}` } })));
    const { code, reason } = await closed;
    expect(code).toBe(1013);
    expect(reason).toMatch(/^SERVICE_UNAVAILABLE/);
  });
});
