import crypto from 'node:crypto';
import { codeOf, createProject, createUserWithToken, ok, startTestApi, TestApi } from '../support/api';
import { captureLog } from '../support/log';
import { Receiver, startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';

/**
 * The process's log as an operator's log store gets it: one JSON object per line, the ids of
 * what a line is about as fields, and no secret anywhere in it, whatever the requests and
 * deliveries carried.
 */
const captured = captureLog('debug');
const HEADER_SECRET = `hdr-${crypto.randomBytes(16).toString('hex')}`;
const URL_SECRET = `key${crypto.randomBytes(12).toString('hex')}`;
let api: TestApi;
let receiver: Receiver;
let projectId: string;
let blueprintId: string;
let userToken: string;

beforeAll(async () => {
  // The first attempt fails, the retry succeeds; both answers echo the request, secrets and all.
  receiver = await startReceiver((request, index) => ({ status: index === 0 ? 500 : 204, body: JSON.stringify(request.headers) }));
  api = await startTestApi({ ROLE: 'all', DELIVERY_THREAD: 'off' }, undefined, captured.log);
  projectId = await createProject(api, 'Logging');
  blueprintId = ok(await api.op(api.adminToken, 'CreateBlueprint', { projectId, input: { name: 'Post' } }), 'blueprint').createBlueprint.id;
  userToken = (await createUserWithToken(api, 'logger@example.com', projectId, 'EDITOR')).token;
}, 60_000);

afterAll(async () => {
  await api?.close();
  await receiver?.close();
});

test('a delivery and the requests around it: ids on every delivery line, no secret on any line', async () => {
  const created = ok(
    await api.op(api.adminToken, 'CreateWebhook', {
      projectId,
      input: {
        name: 'logged',
        url: `${receiver.url}/hook?key=${URL_SECRET}`,
        triggers: ['DOCUMENT_CREATE'],
        headers: [{ name: 'X-Api-Key', value: HEADER_SECRET, secret: true }],
      },
    }),
    'webhook',
  ).createWebhook;
  const signingSecret = ok(await api.op(api.adminToken, 'Webhook', { id: created.id }), 'secret').webhook.signingSecret as string;
  expect(signingSecret).toMatch(/^whsec_/);
  expect(userToken).toMatch(/^cms_/);

  const document = ok(await api.op(userToken, 'CreateDocument', { projectId, input: { blueprintId, title: 'logged' } }), 'document').createDocument;
  // A refused request that quotes a token in what it sends.
  const refused = await api.op(userToken, 'CreateWebhook', { projectId, input: { name: 'x', url: `ftp://${userToken}@example.com/${signingSecret}`, triggers: ['DOCUMENT_CREATE'] } });
  expect(codeOf(refused)).toBe('FORBIDDEN');

  await receiver.waitForCount(2);
  await waitUntil('the successful attempt is logged', () => captured.records.some((r) => r.msg === 'delivery attempt succeeded'));

  const attempts = captured.records.filter((r) => typeof r.msg === 'string' && r.msg.startsWith('delivery attempt'));
  const eventId = JSON.parse(receiver.requests[0].body).event_id;
  expect(attempts).toEqual([
    expect.objectContaining({ level: 'warn', webhookId: created.id, eventId, deliveryId: expect.any(String), trigger: 'document_create', attempt: 1, outcome: 'retrying', statusCode: 500, errorCode: 'status', durationMs: expect.any(Number), retryInMs: expect.any(Number) }),
    expect.objectContaining({ level: 'info', webhookId: created.id, eventId, deliveryId: attempts[0].deliveryId, attempt: 2, outcome: 'succeeded', statusCode: 204, status: 'succeeded' }),
  ]);
  expect(document.id).toBeTruthy();

  const whole = captured.raw.join('');
  for (const secret of [HEADER_SECRET, URL_SECRET, signingSecret, userToken, api.adminToken]) expect(whole).not.toContain(secret);
  // Every line is one JSON object with a level and a time.
  for (const line of captured.raw) expect(JSON.parse(line)).toMatchObject({ level: expect.any(String), time: expect.any(String) });
});

test('every GraphQL operation has a line with its request id, which the response echoes; a sane incoming id is kept', async () => {
  const post = (headers: Record<string, string>) =>
    fetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${userToken}`, ...headers },
      body: JSON.stringify({ query: 'query Me { me { id } }', operationName: 'Me' }),
    });
  const generated = (await post({})).headers.get('x-request-id');
  expect(generated).toMatch(/^[0-9a-f-]{36}$/);
  const kept = (await post({ 'x-request-id': 'lb-7f3a.42' })).headers.get('x-request-id');
  expect(kept).toBe('lb-7f3a.42');
  const replaced = (await post({ 'x-request-id': 'has spaces and "quotes"' })).headers.get('x-request-id');
  expect(replaced).toMatch(/^[0-9a-f-]{36}$/);

  await waitUntil('three operation lines', () => captured.records.filter((r) => r.msg === 'graphql operation' && r.operation === 'Me').length >= 3);
  const lines = captured.records.filter((r) => r.msg === 'graphql operation' && r.operation === 'Me');
  expect(lines.map((r) => r.requestId)).toEqual([generated, 'lb-7f3a.42', replaced]);
  expect(lines[0]).toMatchObject({ level: 'info', operationType: 'query', status: 200, durationMs: expect.any(Number) });
  expect(captured.raw.join('')).not.toContain(userToken);
});

test('a refused operation is logged with its codes, not its message or variables', async () => {
  const before = captured.records.length;
  const result = await api.op(api.adminToken, 'CreateWebhook', { projectId, input: { name: 'bad', url: `gopher://${HEADER_SECRET}`, triggers: ['DOCUMENT_CREATE'] } });
  expect(codeOf(result)).toBe('BAD_USER_INPUT');
  await waitUntil('the refused operation line', () => captured.records.slice(before).some((r) => r.msg === 'graphql operation refused'));
  const line = captured.records.slice(before).find((r) => r.msg === 'graphql operation refused')!;
  expect(line).toMatchObject({ level: 'info', operation: 'CreateWebhook', errorCodes: ['BAD_USER_INPUT'], requestId: expect.any(String) });
  expect(captured.raw.slice(before).join('')).not.toContain(HEADER_SECRET);
});
