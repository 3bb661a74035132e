import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Webhook as Verifier } from 'standardwebhooks';
import { silentLogger } from '../../src/observability/logger';
import { startTracing, stopTracing } from '../../src/observability/tracing-sdk';
import { codeOf, createProject, ok, startTestApi, TestApi } from '../support/api';
import { Receiver, startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';

/**
 * Tracing in-process, spans kept in memory: a save's GraphQL operation, its statements, and
 * the delivery attempts it causes, across the outbox, in one trace.
 */
const exporter = new InMemorySpanExporter();
let api: TestApi;
let projectId: string;
let blueprintId: string;
let traced: Receiver;
let untraced: Receiver;

const spans = () => exporter.getFinishedSpans();
const attemptOf = (webhookId: string) => spans().find((s) => s.name === 'webhook attempt' && s.attributes['webhook.id'] === webhookId);

beforeAll(async () => {
  startTracing({ endpoint: 'http://127.0.0.1:9', serviceName: 'cms-webhooks-test' }, silentLogger, { exporter });
  traced = await startReceiver();
  untraced = await startReceiver();
  api = await startTestApi({ ROLE: 'all', DELIVERY_THREAD: 'off' });
  projectId = await createProject(api, 'Tracing');
  blueprintId = ok(await api.op(api.adminToken, 'CreateBlueprint', { projectId, input: { name: 'Post' } }), 'blueprint').createBlueprint.id;
}, 60_000);

afterAll(async () => {
  await api?.close();
  await traced?.close();
  await untraced?.close();
  await stopTracing();
});

async function webhook(url: string, sendTraceContext: boolean): Promise<{ id: string; signingSecret: string }> {
  const created = ok(await api.op(api.adminToken, 'CreateWebhook', { projectId, input: { name: `t-${sendTraceContext}`, url, triggers: ['DOCUMENT_CREATE'] } }), 'create').createWebhook;
  if (sendTraceContext) {
    const updated = await api.gql(api.adminToken, 'mutation($id: ID!) { updateWebhook(id: $id, input: { sendTraceContext: true }) { sendTraceContext } }', { id: created.id });
    expect(ok(updated, 'opt in').updateWebhook.sendTraceContext).toBe(true);
  }
  const secret = ok(await api.op(api.adminToken, 'Webhook', { id: created.id }), 'secret').webhook.signingSecret;
  return { id: created.id, signingSecret: secret };
}

test('a save: its operation span holds its statements; each delivery attempt continues its trace; an opted-in receiver gets a traceparent', async () => {
  const withContext = await webhook(`${traced.url}/in`, true);
  const without = await webhook(`${untraced.url}/out`, false);
  exporter.reset();

  const doc = ok(await api.op(api.adminToken, 'CreateDocument', { projectId, input: { blueprintId, title: 'traced' } }), 'save').createDocument;
  await traced.waitForCount(1);
  await untraced.waitForCount(1);
  await waitUntil('both attempt spans', () => Boolean(attemptOf(withContext.id) && attemptOf(without.id)));

  const operation = spans().find((s) => s.name === 'CreateDocument' && s.kind === SpanKind.SERVER) as ReadableSpan;
  expect(operation).toBeDefined();
  expect(operation.attributes).toMatchObject({ 'graphql.operation.name': 'CreateDocument', 'graphql.operation.type': 'mutation' });
  const traceId = operation.spanContext().traceId;
  // pg statements of the save, in its trace, under the operation span.
  const statements = spans().filter((s) => s.spanContext().traceId === traceId && s.instrumentationScope.name.includes('pg') && s.kind === SpanKind.CLIENT);
  expect(statements.length).toBeGreaterThan(0);
  expect(statements.some((s) => s.parentSpanContext?.spanId === operation.spanContext().spanId)).toBe(true);
  expect(statements.some((s) => /INSERT INTO "?domain_event/.test(String(s.attributes['db.statement'] ?? s.attributes['db.query.text'] ?? '')))).toBe(true);

  for (const hook of [withContext, without]) {
    const attempt = attemptOf(hook.id)!;
    expect(attempt.spanContext().traceId).toBe(traceId);
    expect(attempt.links.map((l) => l.context.traceId)).toEqual([traceId]);
    expect(attempt.attributes).toMatchObject({ 'webhook.attempt': 1, 'webhook.trigger': 'document_create', 'webhook.success': true, 'http.response.status_code': 204 });
  }

  // The receiver that asked continues from the attempt's own span; the other gets no header.
  const attempt = attemptOf(withContext.id)!;
  const request = traced.requests[0];
  expect(request.headers.traceparent).toBe(`00-${traceId}-${attempt.spanContext().spanId}-01`);
  expect(untraced.requests[0].headers.traceparent).toBeUndefined();
  // The signature covers id, timestamp and body only: it verifies with the extra header.
  expect(() => new Verifier(withContext.signingSecret).verify(request.body, request.headers)).not.toThrow();
  expect(JSON.parse(request.body).metadata.document_id).toBe(doc.id);
});

test('with sendTraceContext, traceparent and tracestate are the sender\'s: a header of the webhook\'s own by those names is refused', async () => {
  const allowed = await api.op(api.adminToken, 'CreateWebhook', {
    projectId,
    input: { name: 'own-traceparent', url: `${untraced.url}/own`, triggers: ['DOCUMENT_CREATE'], headers: [{ name: 'traceparent', value: 'mine', secret: false }] },
  });
  expect(codeOf(allowed)).toBe('OK');
  const id = allowed.data.createWebhook.id;
  const refused = await api.gql(api.adminToken, 'mutation($id: ID!) { updateWebhook(id: $id, input: { sendTraceContext: true }) { id } }', { id });
  expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.headers[0].name' } });
  expect(refused.errors?.[0].message).toMatch(/traceparent.*sendTraceContext/);
  const created = await api.gql(
    api.adminToken,
    'mutation($p: ID!) { createWebhook(projectId: $p, input: { name: "x", url: "https://example.com/", triggers: [DOCUMENT_CREATE], sendTraceContext: true, headers: [{ name: "TraceState", value: "a=b" }] }) { id } }',
    { p: projectId },
  );
  expect(created.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.headers[0].name' } });
  const stored = ok(await api.op(api.adminToken, 'Webhook', { id }), 'kept').webhook;
  expect(stored.sendTraceContext ?? false).toBe(false);
});
