import { silentLogger } from '../../src/observability/logger';
import type { DataSource } from 'typeorm';
import { ListenConnection } from '../../src/db/listen';
import { disableIfFailingFor } from '../../src/delivery/auto-disable';
import { enableMetrics, render } from '../../src/observability/metrics';
import { createTestDatabase } from '../support/database';
import { createFixture, createWebhook, Fixture } from '../support/fixtures';
import { valueOf } from '../support/metrics';
import { startTcpProxy, TcpProxy } from '../support/tcp-proxy';
import { waitUntil } from '../support/wait';

/** The counters of rare events, at their seams: auto-disabling, and LISTEN coming back. */
let db: { url: string; dataSource: DataSource };
let fixture: Fixture;

beforeAll(async () => {
  db = await createTestDatabase('counters');
  fixture = await createFixture(db.dataSource);
  enableMetrics({ defaults: false });
}, 60_000);

afterAll(async () => {
  await db?.dataSource.destroy();
});

const scrape = async () => (await render()).text;

it('counts a webhook disabled automatically once, when it is disabled, not when it already was', async () => {
  const webhook = await createWebhook(db.dataSource, { projectId: fixture.project.id, url: 'http://127.0.0.1:9/x' });
  const fresh = await createWebhook(db.dataSource, { projectId: fixture.project.id, url: 'http://127.0.0.1:9/y' });
  await db.dataSource.query(
    `INSERT INTO webhook_call (webhook_id, project_id, event_id, trigger, kind, attempt, success, duration_ms, created_at, request_method, request_url, request_headers, request_body)
     VALUES ($1, $2, gen_random_uuid(), 'document_create', 'EVENT', 1, false, 5, now() - interval '6 days', 'POST', 'http://127.0.0.1:9/x', '[]', '{}')`,
    [webhook.id, fixture.project.id],
  );
  const windowMs = 120 * 3_600_000;
  await disableIfFailingFor(db.dataSource, fresh.id, windowMs); // no failures: stays enabled
  expect(valueOf(await scrape(), 'cms_webhooks_webhooks_disabled_total', { reason: 'auto' })).toBeUndefined();
  await disableIfFailingFor(db.dataSource, webhook.id, windowMs);
  await disableIfFailingFor(db.dataSource, webhook.id, windowMs); // already disabled
  expect(valueOf(await scrape(), 'cms_webhooks_webhooks_disabled_total', { reason: 'auto' })).toBe(1);
  const [row] = await db.dataSource.query(`SELECT enabled FROM webhook WHERE id = $1`, [webhook.id]);
  expect(row.enabled).toBe(false);
});

it('counts LISTEN reconnects by connection name, not the first connect', async () => {
  const target = new URL(db.url);
  const proxy: TcpProxy = await startTcpProxy(target.hostname, Number(target.port));
  const connection = new ListenConnection({
    connection: { connectionString: proxy.proxied(db.url) },
    channels: ['cms_metrics_test'],
    onNotification: () => undefined,
    log: silentLogger,
    name: 'cms-webhooks-listener',
  });
  try {
    await connection.start();
    expect(valueOf(await scrape(), 'cms_webhooks_listen_reconnects_total')).toBeUndefined();
    proxy.cut();
    proxy.restore();
    await waitUntil('reconnected', () => connection.reconnects === 1 && connection.connected);
    expect(valueOf(await scrape(), 'cms_webhooks_listen_reconnects_total', { connection: 'cms-webhooks-listener' })).toBe(1);
  } finally {
    await connection.close();
    await proxy.close();
  }
});
