import fs from 'node:fs';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { createProject, createUserWithToken, ok, startTestApi, TestApi } from '../support/api';
import { Receiver, startReceiver } from '../support/receiver';
import { cliEnv, freePort, runCli, tempHome } from './helpers';

/**
 * `cms-webhooks replay` and `verify` end to end, and what every command answers when it is
 * called wrongly: one line and exit code 2.
 */
let api: TestApi;
let projectId: string;
let webhookId: string;
let signingSecret: string;
let original: Receiver;
let local: Receiver;
let callId: string;
const SECRET_HEADER_VALUE = 'k3y-only-the-cms-holds';

const env = (extra: Record<string, string> = {}) => cliEnv(tempHome(), { CMS_API_URL: api.url, CMS_TOKEN: api.adminToken, ...extra });

beforeAll(async () => {
  api = await startTestApi();
  projectId = await createProject(api, 'Replay');
  original = await startReceiver(() => ({ status: 500, body: 'receiver bug' }));
  local = await startReceiver(() => ({ status: 204 }));
  const blueprintId = ok(await api.op(api.adminToken, 'CreateBlueprint', { projectId, input: { name: 'Post', fields: [] } }), 'CreateBlueprint').createBlueprint.id;
  const webhook = ok(
    await api.op(api.adminToken, 'CreateWebhook', {
      projectId,
      input: {
        name: 'failing',
        url: original.url,
        method: 'PATCH',
        triggers: ['DOCUMENT_CREATE'],
        headers: [
          { name: 'X-Team', value: 'blue' },
          { name: 'X-Api-Key', value: SECRET_HEADER_VALUE, secret: true },
        ],
      },
    }),
    'CreateWebhook',
  ).createWebhook;
  webhookId = webhook.id;
  signingSecret = webhook.signingSecret;
  ok(await api.op(api.adminToken, 'CreateDocument', { projectId, input: { blueprintId, title: 'to replay' } }), 'CreateDocument');
  await original.waitUntil('the first attempt', (r) => r.length >= 1, 20_000);
  // The first attempt is logged once its outcome is recorded.
  const deadline = Date.now() + 10_000;
  while (!callId) {
    const calls = ok(await api.op(api.adminToken, 'WebhookCalls', { projectId, filter: { webhookId } }), 'WebhookCalls').webhookCalls.edges;
    if (calls.length > 0) callId = calls[calls.length - 1].node.id;
    else if (Date.now() > deadline) throw new Error('the call was never logged');
    else await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // No more retries are needed: stop them reaching the receiver while the tests look at it.
  ok(await api.op(api.adminToken, 'UpdateWebhook', { id: webhookId, input: { enabled: false } }), 'UpdateWebhook');
});

afterAll(async () => {
  await local?.close();
  await original?.close();
  await api?.close();
});

test("replay sends the logged call's exact body and headers, re-signed with the webhook's secret", async () => {
  const call = ok(await api.op(api.adminToken, 'WebhookCall', { id: callId }), 'WebhookCall').webhookCall;
  const before = local.requests.length;
  const result = await runCli(['replay', callId, '--forward-to', local.url, '--json'], env());
  expect(result.code).toBe(0);
  expect(result.stderr).toMatch(/header X-Api-Key is secret, masked in the log: not sent/);
  expect(JSON.parse(result.stdout)).toMatchObject({ callId, eventId: call.eventId, status: 204, method: 'PATCH', trigger: 'document_create' });

  const [request] = local.requests.slice(before);
  expect(request.body).toBe(call.requestBody);
  expect(request.body).toBe(original.requests[0].body); // byte for byte what the receiver got
  expect(request.method).toBe('PATCH');
  expect(request.headers).toMatchObject({ 'x-team': 'blue', 'webhook-id': call.eventId, 'user-agent': original.requests[0].headers['user-agent'] });
  expect(request.headers['x-api-key']).toBeUndefined();
  new Webhook(signingSecret).verify(request.body, request.headers);
});

test('replay --header supplies a secret header; --local-secret signs with listen\'s local secret', async () => {
  const home = tempHome();
  const before = local.requests.length;
  const result = await runCli(['replay', callId, '--forward-to', local.url, '--local-secret', '--header', `X-Api-Key: ${SECRET_HEADER_VALUE}`], cliEnv(home, { CMS_API_URL: api.url, CMS_TOKEN: api.adminToken }));
  expect(result.code).toBe(0);
  expect(result.stderr).not.toMatch(/X-Api-Key/);
  const [request] = local.requests.slice(before);
  expect(request.headers['x-api-key']).toBe(SECRET_HEADER_VALUE);
  const localSecret = fs.readFileSync(path.join(home, '.config', 'cms-webhooks', 'listen-secret'), 'utf8').trim();
  new Webhook(localSecret).verify(request.body, request.headers);
  expect(() => new Webhook(signingSecret).verify(request.body, request.headers)).toThrow();
});

test('replay exits 1 when the local server does not answer 2xx', async () => {
  const result = await runCli(['replay', callId, '--forward-to', original.url], env());
  expect(result.code).toBe(1);
  expect(result.stdout).toMatch(/→ 500 \d+ ms/);
});

test('verify checks a request as a receiver would: 0 when genuine, 1 with the reason when not', async () => {
  const request = original.requests[0];
  const headers = ['webhook-id', 'webhook-timestamp', 'webhook-signature'].flatMap((h) => ['--header', `${h}: ${request.headers[h]}`]);
  // The attempt is minutes old at most: well within a tolerance of an hour.
  const valid = await runCli(['verify', '--secret', signingSecret, '--tolerance', '3600', ...headers], env(), request.body);
  expect(valid).toMatchObject({ code: 0, stdout: expect.stringMatching(/^valid: document_create event [0-9a-f-]{36}\n$/) });
  const tampered = await runCli(['verify', '--secret', signingSecret, '--tolerance', '3600', ...headers], env(), request.body.replace('document_create', 'document_delete'));
  expect(tampered).toMatchObject({ code: 1, stdout: 'not valid: no_matching_signature (No matching signature found)\n' });
});

describe('a command called wrongly says why in one line and exits 2', () => {
  test.each([
    ['no command', [], {}, /^Usage: cms-webhooks <command>/],
    ['an unknown command', ['tunnel'], {}, /^cms-webhooks: unknown command 'tunnel'/],
    ['an unknown flag', ['listen', '--forward-to', 'http://127.0.0.1:9/', '--project', 'p', '--colour'], {}, /^cms-webhooks: Unknown option '--colour' \(see cms-webhooks listen --help\)\n$/],
    ['no token', ['listen', '--forward-to', 'http://127.0.0.1:9/', '--project', 'p'], { CMS_TOKEN: '' }, /^cms-webhooks: no API token: pass --token or set CMS_TOKEN\n$/],
    ['no --forward-to', ['listen', '--project', 'p'], {}, /^cms-webhooks: --forward-to URL is required/],
    ['no project or webhook', ['listen', '--forward-to', 'http://127.0.0.1:9/'], {}, /^cms-webhooks: --project ID is required \(or --webhook ID\)\n$/],
    ['an unknown trigger', ['listen', '--forward-to', 'http://127.0.0.1:9/', '--project', 'p', '--triggers', 'document_create,page_view'], {}, /^cms-webhooks: --triggers: unknown trigger 'PAGE_VIEW'/],
    ['a token the CMS refuses', ['listen', '--forward-to', 'http://127.0.0.1:9/', '--project', 'p'], { CMS_TOKEN: 'cms_wrong' }, /^cms-webhooks: the CMS refused the API token \(UNAUTHENTICATED\)/],
    ['a project that is not there', ['listen', '--forward-to', 'http://127.0.0.1:9/', '--project', '9b2e4c1a-0000-4000-8000-000000000000'], {}, /^cms-webhooks: project 9b2e4c1a-0000-4000-8000-000000000000 not found/],
    ['replay without a call id', ['replay', '--forward-to', 'http://127.0.0.1:9/'], {}, /^cms-webhooks: CALL_ID is required/],
    ['replay of an unknown call', ['replay', '9b2e4c1a-0000-4000-8000-000000000000', '--forward-to', 'http://127.0.0.1:9/'], {}, /^cms-webhooks: call 9b2e4c1a-0000-4000-8000-000000000000 not found/],
  ] as const)('%s', async (_what, args, extra, message) => {
    const result = await runCli([...args], env(extra));
    expect(result.code).toBe(2);
    expect(result.stderr + result.stdout).toMatch(message);
  });

  test('a CMS that cannot be reached', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}/graphql`;
    const result = await runCli(['listen', '--forward-to', 'http://127.0.0.1:9/', '--project', projectId], env({ CMS_API_URL: nobody }));
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(new RegExp(`^cms-webhooks: cannot reach the CMS API at ${nobody}: .*ECONNREFUSED.*\\n$`));
  });

  test('a member without the ADMIN role', async () => {
    const editor = await createUserWithToken(api, 'editor@replay.test', projectId, 'EDITOR');
    const result = await runCli(['listen', '--forward-to', 'http://127.0.0.1:9/', '--project', projectId], env({ CMS_TOKEN: editor.token }));
    expect(result).toMatchObject({ code: 2, stderr: `cms-webhooks: project ${projectId}: listening needs the ADMIN or OWNER role\n` });
  });
});

test.each(['listen', 'replay', 'verify'])('%s --help explains the command and exits 0', async (command) => {
  const result = await runCli([command, '--help'], env());
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(new RegExp(`^Usage: cms-webhooks ${command} `));
  expect(result.stdout).toMatch(/Exit status/);
});
