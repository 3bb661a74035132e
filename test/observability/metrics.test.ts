import crypto from 'node:crypto';
import { OPERATIONS } from '../../sdk/operations';
import { codeOf, ok, startTestApi, TestApi, wsClient } from '../support/api';
import { scrape, UUID, valueOf } from '../support/metrics';
import { Receiver, startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';

/**
 * /metrics after a known burst, through the real API, worker and loopback receivers: every
 * count is exact. One app per file: the metrics of a process start at zero with it.
 */
const N = 4;
const SCHEDULE_ATTEMPTS = 3; // WEBHOOK_RETRY_SCHEDULE below has two delays
let api: TestApi;
let metricsPort: number;
let good: Receiver;
let failing: Receiver;
let held: Receiver;
const releases: Array<() => void> = [];

beforeAll(async () => {
  good = await startReceiver();
  failing = await startReceiver(() => ({ status: 500, body: 'no' }));
  held = await startReceiver(() => new Promise((resolve) => releases.push(() => resolve({ status: 500 }))));
  api = await startTestApi({ METRICS_PORT: '0', WEBHOOK_RETRY_SCHEDULE: '50ms,100ms' });
  metricsPort = api.app.metrics!.port;
}, 60_000);

afterAll(async () => {
  releases.splice(0).forEach((release) => release());
  await api?.close();
  await Promise.all([good, failing, held].map((r) => r?.close()));
});

async function project(name: string): Promise<{ projectId: string; blueprintId: string }> {
  const projectId = ok(await api.op(api.adminToken, 'CreateProject', { input: { name } }), 'CreateProject').createProject.id;
  const blueprintId = ok(await api.op(api.adminToken, 'CreateBlueprint', { projectId, input: { name: 'Post' } }), 'CreateBlueprint').createBlueprint.id;
  return { projectId, blueprintId };
}

async function webhook(projectId: string, url: string): Promise<string> {
  const input = { name: `w-${crypto.randomUUID()}`, url, triggers: ['DOCUMENT_CREATE'] };
  return ok(await api.op(api.adminToken, 'CreateWebhook', { projectId, input }), 'CreateWebhook').createWebhook.id;
}

async function createDocuments(projectId: string, blueprintId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) ok(await api.op(api.adminToken, 'CreateDocument', { projectId, input: { blueprintId, title: `d${i}` } }), 'CreateDocument');
}

/** Scrapes until every `expected` value is reached; returns that scrape. */
async function scrapeWhen(what: string, expected: Array<[name: string, labels: Record<string, string>, value: number]>): Promise<string> {
  let text = '';
  await waitUntil(what, async () => {
    text = await scrape(metricsPort);
    return expected.every(([name, labels, value]) => (valueOf(text, name, labels) ?? 0) >= value);
  }, 20_000);
  return text;
}

describe('a burst of deliveries', () => {
  let text: string;

  beforeAll(async () => {
    const { projectId, blueprintId } = await project('burst');
    await webhook(projectId, good.url);
    await webhook(projectId, failing.url);
    await createDocuments(projectId, blueprintId, N);
    await good.waitForCount(N);
    await failing.waitForCount(N * SCHEDULE_ATTEMPTS, 20_000);
    // Outcomes are counted after the receiver has answered, the given-up ones once written.
    text = await scrapeWhen('every attempt counted', [
      ['cms_webhooks_deliveries_given_up_total', {}, N],
      ['cms_webhooks_attempts_total', { outcome: 'success' }, N],
    ]);
  }, 60_000);

  it('counts each committed event once, by trigger, with its fan-out lag', () => {
    expect(valueOf(text, 'cms_webhooks_events_captured_total', { trigger: 'document_create' })).toBe(N);
    // Every event of any trigger was fanned out once, and observed once.
    const allEvents = valueOf(text, 'cms_webhooks_events_captured_total')!;
    expect(valueOf(text, 'cms_webhooks_fanout_lag_seconds_count')).toBe(allEvents);
  });

  it('counts attempts by outcome and error class, and times each', () => {
    expect(valueOf(text, 'cms_webhooks_attempts_total', { kind: 'EVENT', outcome: 'success', error_class: 'none' })).toBe(N);
    expect(valueOf(text, 'cms_webhooks_attempts_total', { kind: 'EVENT', outcome: 'failure', error_class: 'http_5xx' })).toBe(N * SCHEDULE_ATTEMPTS);
    expect(valueOf(text, 'cms_webhooks_attempts_total')).toBe(N + N * SCHEDULE_ATTEMPTS);
    expect(valueOf(text, 'cms_webhooks_attempt_duration_seconds_count', { outcome: 'success' })).toBe(N);
    expect(valueOf(text, 'cms_webhooks_attempt_duration_seconds_count', { outcome: 'failure' })).toBe(N * SCHEDULE_ATTEMPTS);
  });

  it('counts the deliveries given up, exactly', () => {
    expect(valueOf(text, 'cms_webhooks_deliveries_given_up_total')).toBe(N);
  });

  it('counts the GraphQL operations by name and outcome', () => {
    expect(valueOf(text, 'cms_webhooks_graphql_operations_total', { operation: 'CreateDocument', type: 'mutation', outcome: 'success' })).toBe(N);
    expect(valueOf(text, 'cms_webhooks_graphql_operation_duration_seconds_count', { operation: 'CreateDocument', type: 'mutation' })).toBe(N);
    expect(valueOf(text, 'cms_webhooks_graphql_operations_total', { operation: 'CreateWebhook', outcome: 'success' })).toBe(2);
  });

  it('reports pools and Node process metrics', () => {
    expect(valueOf(text, 'cms_webhooks_db_pool_connections', { pool: 'main', state: 'idle' })).toBeGreaterThanOrEqual(0);
    expect(valueOf(text, 'cms_webhooks_db_pool_waiting_requests', { pool: 'main' })).toBe(0);
    expect(valueOf(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(text, 'cms_webhooks_queue_query_ok')).toBe(1);
  });
});

describe('a paused webhook', () => {
  it('shows its pending delivery as paused, and the manual disabling', async () => {
    const { projectId, blueprintId } = await project('paused');
    const webhookId = await webhook(projectId, held.url);
    const before = valueOf(await scrape(metricsPort), 'cms_webhooks_attempts_total', { error_class: 'http_5xx' }) ?? 0;
    await createDocuments(projectId, blueprintId, 1);
    await held.waitForCount(1);
    ok(await api.op(api.adminToken, 'UpdateWebhook', { id: webhookId, input: { enabled: false } }), 'UpdateWebhook');
    releases.splice(0).forEach((release) => release());
    // The failure is retried later; the webhook is disabled by then, so the delivery waits, paused.
    const text = await scrapeWhen('the delivery paused', [
      ['cms_webhooks_attempts_total', { error_class: 'http_5xx' }, before + 1],
      ['cms_webhooks_deliveries_pending', { state: 'paused' }, 1],
    ]);
    expect(valueOf(text, 'cms_webhooks_deliveries_pending', { state: 'paused' })).toBe(1);
    for (const state of ['due', 'in_flight', 'scheduled']) expect(valueOf(text, 'cms_webhooks_deliveries_pending', { state })).toBe(0);
    expect(valueOf(text, 'cms_webhooks_webhooks_disabled_total', { reason: 'manual' })).toBe(1);
    expect(valueOf(text, 'cms_webhooks_webhooks_disabled_total', { reason: 'auto' })).toBeUndefined();
    expect(held.requests).toHaveLength(1);
  });
});

describe('GraphQL outcomes', () => {
  it('tells success, error and rejected apart, and bounds the names', async () => {
    const before = await scrape(metricsPort);
    const count = (text: string, labels: Record<string, string>) => valueOf(text, 'cms_webhooks_graphql_operations_total', labels) ?? 0;
    expect(codeOf(await api.op(api.adminToken, 'Webhook', { id: crypto.randomUUID() }))).toBe('NOT_FOUND');
    expect(codeOf(await api.gql(api.adminToken, 'query { me { id } '))).toBe('GRAPHQL_PARSE_FAILED');
    expect(codeOf(await api.gql(api.adminToken, '{ me { id } }'))).toBe('OK');
    expect(codeOf(await api.gql(api.adminToken, 'query MyDashboard { me { id } }'))).toBe('OK');
    expect(codeOf(await api.gql(api.adminToken, 'query NoSuchField { me { nope } }'))).toBe('GRAPHQL_VALIDATION_FAILED');
    const after = await scrape(metricsPort);
    const delta = (labels: Record<string, string>) => count(after, labels) - count(before, labels);
    expect(delta({ operation: 'Webhook', type: 'query', outcome: 'error' })).toBe(1);
    expect(delta({ operation: 'unknown', outcome: 'rejected' })).toBe(1);
    expect(delta({ operation: 'anonymous', type: 'query', outcome: 'success' })).toBe(1);
    expect(delta({ operation: 'MyDashboard', type: 'query', outcome: 'success' })).toBe(1);
    expect(delta({ operation: 'NoSuchField', outcome: 'rejected' })).toBe(1);
  });
});

describe('WebSocket subscriptions', () => {
  it('are counted open while open, read at scrape time', async () => {
    const { projectId } = await project('live');
    const gauge = async () => {
      const text = await scrape(metricsPort);
      return [valueOf(text, 'cms_webhooks_graphql_subscriptions_open'), valueOf(text, 'cms_webhooks_websocket_connections_open')];
    };
    expect(await gauge()).toEqual([0, 0]);
    const client = wsClient(api, api.adminToken);
    const stream = client.iterate({ query: OPERATIONS.WebhookCallLogged, operationName: 'WebhookCallLogged', variables: { projectId } })[Symbol.asyncIterator]();
    const next = stream.next(); // starts it
    try {
      await waitUntil('the subscription counted', async () => (await gauge())[0] === 1);
      expect(await gauge()).toEqual([1, 1]);
    } finally {
      await stream.return?.();
      await client.dispose();
      void next.catch(() => undefined);
    }
    await waitUntil('the subscription and its socket gone', async () => JSON.stringify(await gauge()) === '[0,0]');
  });
});

describe('the scrape', () => {
  it('never carries an id', async () => {
    const text = await scrape(metricsPort);
    expect(text).toMatch(/cms_webhooks_attempts_total\{/);
    expect(text.match(UUID)).toBeNull();
    // Every cms_webhooks_ metric has HELP text.
    const names = new Set([...text.matchAll(/^# TYPE (cms_webhooks_\w+) /gm)].map((m) => m[1]));
    expect(names.size).toBeGreaterThanOrEqual(15);
    for (const name of names) expect(text).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
  });

  it('answers the probes on both listeners, and nothing else on the metrics one', async () => {
    const base = api.url.replace(/\/graphql$/, '');
    for (const root of [base, `http://127.0.0.1:${metricsPort}`]) {
      expect((await fetch(`${root}/livez`)).status).toBe(200);
      const ready = await fetch(`${root}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok', draining: 'ok' } });
    }
    expect((await fetch(`http://127.0.0.1:${metricsPort}/graphql`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`)).status).not.toBe(200);
  });

  it('/readyz answers 503 naming draining once the API drains, while /healthz keeps its own body', async () => {
    api.app.http!.markDraining();
    const base = api.url.replace(/\/graphql$/, '');
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not ready', failed: ['draining'] });
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: 'draining' });
    expect((await fetch(`${base}/livez`)).status).toBe(200);
  });
});
