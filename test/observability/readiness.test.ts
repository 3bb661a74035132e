import type { DataSource } from 'typeorm';
import { metricsEnabled, registry } from '../../src/observability/metrics';
import { ok, startTestApi, TestApi } from '../support/api';
import { createTestDatabase } from '../support/database';
import { startReceiver, Receiver } from '../support/receiver';
import { startTcpProxy, TcpProxy } from '../support/tcp-proxy';
import { waitUntil } from '../support/wait';

/**
 * /readyz against a database the test takes away (a loopback proxy it cuts), and an app with
 * METRICS_PORT unset: no metrics listener, and nothing recorded.
 */
let proxy: TcpProxy;
let direct: DataSource;
let api: TestApi;
let receiver: Receiver;
let base: string;

beforeAll(async () => {
  const db = await createTestDatabase('ready');
  direct = db.dataSource;
  const target = new URL(db.url);
  proxy = await startTcpProxy(target.hostname, Number(target.port));
  receiver = await startReceiver();
  api = await startTestApi({}, proxy.proxied(db.url));
  base = api.url.replace(/\/graphql$/, '');
}, 60_000);

afterAll(async () => {
  proxy?.restore();
  await api?.close();
  await receiver?.close();
  await direct?.destroy();
  await proxy?.close();
});

afterEach(() => proxy.restore());

async function readyz(): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: await res.json() };
}

it('is ready with the database there, 503 naming the database while it is gone, ready again after', async () => {
  expect(await readyz()).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'ok', migrations: 'ok', draining: 'ok' } } });
  proxy.cut();
  const started = Date.now();
  const gone = await readyz();
  // A short timeout: a probe must answer even when the database does not.
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(gone.status).toBe(503);
  expect(gone.body.failed).toEqual(['database']);
  expect(gone.body.checks.migrations).toBe('unknown');
  expect((await fetch(`${base}/livez`)).status).toBe(200);
  proxy.restore();
  await waitUntil('ready again', async () => (await readyz()).status === 200);
});

it('answers 503 within its timeout when the database is there but does not answer', async () => {
  const lock = direct.createQueryRunner();
  await lock.connect();
  try {
    await lock.startTransaction();
    // The probe's read of the migrations waits behind this lock, as behind a stuck database.
    await lock.query('LOCK TABLE schema_migration IN ACCESS EXCLUSIVE MODE');
    const started = Date.now();
    const { status, body } = await readyz();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(status).toBe(503);
    expect(body).toMatchObject({ failed: ['database'], checks: { database: 'no answer within 1000 ms', migrations: 'unknown' } });
  } finally {
    await lock.rollbackTransaction();
    await lock.release();
  }
  await waitUntil('ready again', async () => (await readyz()).status === 200);
});

it('names pending migrations', async () => {
  await direct.query(`DELETE FROM schema_migration WHERE name = (SELECT max(name) FROM schema_migration)`);
  try {
    const { status, body } = await readyz();
    expect(status).toBe(503);
    expect(body.failed).toEqual(['migrations']);
    expect(body.checks.migrations).toMatch(/^pending: \w+\d{13}$/);
  } finally {
    const names = api.app.dataSource.migrations.map((m) => m.name ?? m.constructor.name);
    const applied = new Set((await direct.query(`SELECT name FROM schema_migration`)).map((r: { name: string }) => r.name));
    const missing = names.filter((n) => !applied.has(n))[0];
    await direct.query(`INSERT INTO schema_migration (timestamp, name) VALUES ($1, $2)`, [Number(missing.slice(-13)), missing]);
  }
  expect((await readyz()).status).toBe(200);
});

it('with METRICS_PORT unset, starts no metrics listener and records nothing', async () => {
  expect(api.app.metrics).toBeUndefined();
  expect(metricsEnabled()).toBe(false);
  const projectId = ok(await api.op(api.adminToken, 'CreateProject', { input: { name: 'quiet' } }), 'CreateProject').createProject.id;
  const blueprintId = ok(await api.op(api.adminToken, 'CreateBlueprint', { projectId, input: { name: 'Post' } }), 'CreateBlueprint').createBlueprint.id;
  ok(await api.op(api.adminToken, 'CreateWebhook', { projectId, input: { name: 'q', url: receiver.url, triggers: ['DOCUMENT_CREATE'] } }), 'CreateWebhook');
  ok(await api.op(api.adminToken, 'CreateDocument', { projectId, input: { blueprintId, title: 'x' } }), 'CreateDocument');
  await receiver.waitForCount(1);
  const values = await registry.getMetricsAsJSON();
  for (const name of ['cms_webhooks_attempts_total', 'cms_webhooks_events_captured_total', 'cms_webhooks_graphql_operations_total']) {
    expect(values.find((m) => m.name === name)?.values).toEqual([]);
  }
  expect(values.find((m) => m.name === 'process_cpu_user_seconds_total')).toBeUndefined();
});
