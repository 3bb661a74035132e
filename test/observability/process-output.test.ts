import crypto from 'node:crypto';
import { withDatabase } from '../../src/db/data-source';
import { OPERATIONS, OperationName } from '../../sdk/operations';
import { TEST_ENV } from '../support/config';
import { serverUrl } from '../support/database';
import { spawnServer, ServerProcess } from '../support/processes';
import { Receiver, startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';

/**
 * The built server as an operator runs it (ROLE=all, the delivery worker on its thread), its
 * stdout piped: every line JSON, the thread's lines in the same format; the super-admin token
 * printed once, on its own line, and nowhere else; no other secret anywhere; and with
 * OTEL_EXPORTER_OTLP_ENDPOINT set, spans of the API and of the thread reach the collector.
 */
const HEADER_SECRET = `hdr-${crypto.randomBytes(16).toString('hex')}`;
let server: ServerProcess;
let receiver: Receiver;
let collector: Receiver;
let databaseUrl: string;

beforeAll(async () => {
  receiver = await startReceiver();
  collector = await startReceiver(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{}' }));
  databaseUrl = withDatabase(serverUrl(), `output_${crypto.randomBytes(6).toString('hex')}`);
  server = spawnServer({
    ...TEST_ENV,
    DATABASE_URL: databaseUrl,
    ROLE: 'all',
    OTEL_EXPORTER_OTLP_ENDPOINT: new URL(collector.url).origin,
    OTEL_SERVICE_NAME: 'cms-output-test',
  });
  await server.waitFor(/delivery worker \S+ running on its own thread/, 60_000);
}, 90_000);

afterAll(async () => {
  if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  await server?.exited;
  await receiver?.close();
  await collector?.close();
});

const jsonLines = () =>
  server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown> & { msg: string });

test('JSON lines from both threads, the token once, no secret elsewhere, spans at the collector', async () => {
  const tokenLine = jsonLines().find((l) => l.credential === true);
  expect(tokenLine?.msg).toMatch(/^created super-admin admin@localhost; its API token \(shown only now\): cms_[A-Za-z0-9_-]{43}$/);
  const token = /cms_[A-Za-z0-9_-]{43}/.exec(tokenLine!.msg)![0];
  const port = Number(/GraphQL on http:\/\/localhost:(\d+)\/graphql/.exec(server.output())![1]);
  const op = async (name: OperationName, variables: Record<string, unknown>) => {
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: OPERATIONS[name], variables, operationName: name }),
    });
    const body = (await res.json()) as { data: any; errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const projectId = (await op('CreateProject', { input: { name: 'Output' } })).createProject.id;
  const blueprintId = (await op('CreateBlueprint', { projectId, input: { name: 'Post' } })).createBlueprint.id;
  const webhookId = (
    await op('CreateWebhook', {
      projectId,
      input: { name: 'out', url: `${receiver.url}/hook`, triggers: ['DOCUMENT_CREATE'], headers: [{ name: 'X-Api-Key', value: HEADER_SECRET, secret: true }] },
    })
  ).createWebhook.id;
  const signingSecret = (await op('Webhook', { id: webhookId })).webhook.signingSecret as string;
  await op('CreateDocument', { projectId, input: { blueprintId, title: 'out' } });
  const [request] = await receiver.waitForCount(1);
  expect(request.headers['x-api-key']).toBe(HEADER_SECRET);

  await waitUntil('the thread\'s delivery line', () => jsonLines().some((l) => l.msg === 'delivery attempt succeeded'), 20_000);
  const delivery = jsonLines().find((l) => l.msg === 'delivery attempt succeeded')!;
  expect(delivery).toMatchObject({ level: 'info', thread: 'delivery', webhookId, eventId: JSON.parse(request.body).event_id, deliveryId: expect.any(String), attempt: 1, outcome: 'succeeded', statusCode: 204 });
  expect(jsonLines().some((l) => l.msg === 'graphql operation' && l.operation === 'CreateDocument' && typeof l.requestId === 'string')).toBe(true);

  // Batched every few seconds: spans of the API (the operation) and of the thread (the attempt).
  await waitUntil('spans of both threads at the collector', () => {
    const bodies = collector.requests.filter((r) => r.path === '/v1/traces').map((r) => r.body).join('');
    return bodies.includes('CreateDocument') && bodies.includes('webhook attempt');
  }, 30_000);
  expect(collector.requests[0]).toMatchObject({ method: 'POST', path: '/v1/traces' });
  expect(collector.requests.map((r) => r.body).join('')).toContain('cms-output-test');

  server.child.kill('SIGTERM');
  expect(await server.exited).toEqual({ code: 0, signal: null });
  const output = server.output();
  // Every line of stdout and stderr is a JSON object (nothing printed around the logger).
  const nonJson = output.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('{'));
  expect(nonJson.filter((line) => !/ExperimentalWarning|--trace-warnings/.test(line))).toEqual([]);
  expect(output.split('\n').filter((line) => line.includes(token))).toHaveLength(1);
  const password = decodeURIComponent(new URL(databaseUrl).password);
  expect(password.length).toBeGreaterThan(8);
  for (const secret of [HEADER_SECRET, signingSecret, password]) expect(output).not.toContain(secret);
  // The collector got no secret either.
  const exported = collector.requests.map((r) => r.body).join('');
  for (const secret of [HEADER_SECRET, signingSecret, password, token]) expect(exported).not.toContain(secret);
});
