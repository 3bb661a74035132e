import crypto from 'node:crypto';
import fs from 'node:fs';
import { ok, startTestApi, TestApi } from '../support/api';
import { TEST_ENV } from '../support/config';
import { scrape, UUID, valueOf } from '../support/metrics';
import { spawnServer, ServerProcess } from '../support/processes';
import { Receiver, startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';

/**
 * The built server as operators run it: ROLE=all with the delivery worker on its thread (its
 * counts must reach the main thread's /metrics), without METRICS_PORT (nothing more listens),
 * and ROLE=worker (no API port: its probes are on the metrics listener). An in-process API
 * without a worker makes the changes; only the child delivers.
 */
const TOKEN = `obs-admin-${crypto.randomBytes(12).toString('hex')}`;
let api: TestApi;
let good: Receiver;
let held: Receiver;
const releases: Array<() => void> = [];
const children: ServerProcess[] = [];

beforeAll(async () => {
  api = await startTestApi({ ROLE: 'api', BOOTSTRAP_ADMIN_TOKEN: TOKEN });
  good = await startReceiver();
  held = await startReceiver(() => new Promise((resolve) => releases.push(() => resolve({ status: 204 }))));
}, 60_000);

afterAll(async () => {
  releases.splice(0).forEach((release) => release());
  for (const child of children) if (child.child.exitCode === null) child.child.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await api?.close();
  await good?.close();
  await held?.close();
});

function spawn(env: Record<string, string>): ServerProcess {
  const child = spawnServer({ ...TEST_ENV, DATABASE_URL: api.databaseUrl, BOOTSTRAP_ADMIN_TOKEN: TOKEN, ...env });
  children.push(child);
  return child;
}

async function portFrom(child: ServerProcess, pattern: RegExp): Promise<number> {
  await child.waitFor(pattern);
  return Number(pattern.exec(child.output())![1]);
}

const METRICS_LINE = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/;
const API_LINE = /GraphQL on http:\/\/localhost:(\d+)\/graphql/;

/** TCP ports the process `pid` listens on, from /proc: what an operator's `ss -ltnp` shows. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A' || !inodes.has(cols[9])) continue;
      ports.add(parseInt(cols[1].split(':').pop()!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

async function projectWithWebhook(name: string, url: string): Promise<{ projectId: string; blueprintId: string }> {
  const projectId = ok(await api.op(TOKEN, 'CreateProject', { input: { name } }), 'CreateProject').createProject.id;
  const blueprintId = ok(await api.op(TOKEN, 'CreateBlueprint', { projectId, input: { name: 'Post' } }), 'CreateBlueprint').createBlueprint.id;
  ok(await api.op(TOKEN, 'CreateWebhook', { projectId, input: { name: `w-${name}`, url, triggers: ['DOCUMENT_CREATE'] } }), 'CreateWebhook');
  return { projectId, blueprintId };
}

async function stop(child: ServerProcess): Promise<void> {
  child.child.kill('SIGTERM');
  expect((await child.exited).code).toBe(0);
}

it('ROLE=all: the delivery thread\'s counts are on the main thread\'s /metrics', async () => {
  const N = 5;
  const { projectId, blueprintId } = await projectWithWebhook('thread', good.url);
  const child = spawn({ ROLE: 'all', PORT: '0', METRICS_PORT: '0' });
  await child.waitFor(/delivery worker \S+ running on its own thread/);
  const metricsPort = await portFrom(child, METRICS_LINE);
  const apiPort = await portFrom(child, API_LINE);
  expect(listeningPorts(child.child.pid!)).toEqual([apiPort, metricsPort].sort((a, b) => a - b));

  for (let i = 0; i < N; i++) ok(await api.op(TOKEN, 'CreateDocument', { projectId, input: { blueprintId, title: `t${i}` } }), 'CreateDocument');
  await good.waitForCount(N);
  let text = '';
  await waitUntil('the thread\'s attempts on /metrics', async () => {
    text = await scrape(metricsPort);
    return (valueOf(text, 'cms_webhooks_attempts_total') ?? 0) >= N;
  });
  expect(valueOf(text, 'cms_webhooks_attempts_total', { kind: 'EVENT', outcome: 'success', error_class: 'none' })).toBe(N);
  expect(valueOf(text, 'cms_webhooks_attempts_total')).toBe(N);
  expect(valueOf(text, 'cms_webhooks_events_captured_total', { trigger: 'document_create' })).toBe(N);
  expect(valueOf(text, 'cms_webhooks_attempt_duration_seconds_count')).toBe(N);
  // Both pools, each once; the process metrics once (from the main thread only).
  expect(valueOf(text, 'cms_webhooks_db_pool_connections', { pool: 'delivery_thread' })).toBeGreaterThan(0);
  expect(valueOf(text, 'cms_webhooks_db_pool_connections', { pool: 'main' })).toBeGreaterThan(0);
  expect(text.match(/^process_cpu_user_seconds_total /gm)).toHaveLength(1);
  expect(valueOf(text, 'cms_webhooks_queue_query_ok')).toBe(1);
  expect(text.match(UUID)).toBeNull();
  // Counters survive from scrape to scrape: the merge is not a reset.
  expect(valueOf(await scrape(metricsPort), 'cms_webhooks_attempts_total')).toBe(N);
  await stop(child);
}, 90_000);

it('without METRICS_PORT, the process listens on its API port only', async () => {
  const child = spawn({ ROLE: 'all', PORT: '0' });
  await child.waitFor(/delivery worker \S+ running on its own thread/);
  const apiPort = await portFrom(child, API_LINE);
  expect(listeningPorts(child.child.pid!)).toEqual([apiPort]);
  expect(child.output()).not.toMatch(/metrics on/);
  await stop(child);
}, 90_000);

it('ROLE=worker: /metrics and the probes on its metrics port; /readyz turns 503 while it drains', async () => {
  const { projectId, blueprintId } = await projectWithWebhook('worker', held.url);
  const child = spawn({ ROLE: 'worker', METRICS_PORT: '0', SHUTDOWN_GRACE_MS: '30000' });
  await child.waitFor(/delivery worker \S+ running/);
  const port = await portFrom(child, METRICS_LINE);
  expect(listeningPorts(child.child.pid!)).toEqual([port]);
  const base = `http://127.0.0.1:${port}`;
  expect((await fetch(`${base}/livez`)).status).toBe(200);
  const ready = await fetch(`${base}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok', draining: 'ok' } });

  ok(await api.op(TOKEN, 'CreateDocument', { projectId, input: { blueprintId, title: 'held' } }), 'CreateDocument');
  await held.waitForCount(1);
  const during = await scrape(port);
  expect(valueOf(during, 'cms_webhooks_deliveries_pending', { state: 'in_flight' })).toBe(1);

  // In-flight attempts hold the shutdown (SHUTDOWN_GRACE_MS): meanwhile the probe says why not ready.
  child.child.kill('SIGTERM');
  await waitUntil('/readyz 503 while draining', async () => {
    const res = await fetch(`${base}/readyz`);
    return res.status === 503 && ((await res.json()) as { failed: string[] }).failed.includes('draining');
  });
  expect((await fetch(`${base}/livez`)).status).toBe(200);
  releases.splice(0).forEach((release) => release());
  expect((await child.exited).code).toBe(0);
  expect(valueOf(during, 'cms_webhooks_events_captured_total', { trigger: 'document_create' })).toBe(1);
}, 90_000);
