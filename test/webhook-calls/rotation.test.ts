import { Webhook as Verifier } from 'standardwebhooks';
import { verifyWebhook, WebhookVerificationError } from 'cms-webhooks-sdk';
import { codeOf, createProject, createUserWithToken, ok, startTestApi, TestApi } from '../support/api';
import { ReceivedRequest, Receiver, startReceiver } from '../support/receiver';

/**
 * Rotating a signing secret: for the grace period every request carries a signature under
 * the old secret and one under the new, so receivers holding either accept it; once the
 * grace period is over, only the new one signs.
 */
let api: TestApi;
let token: string;
let projectId: string;
let blueprintId: string;
let hook: Receiver;
let webhookId: string;
let oldSecret: string;
let newSecret: string;

/** Creates a document and returns the event request it causes. */
async function deliverEvent(title: string): Promise<ReceivedRequest> {
  const before = hook.requests.length;
  const created = ok(await api.op(token, 'CreateDocument', { projectId, input: { blueprintId, title } }), 'CreateDocument');
  await hook.waitUntil(`the event of "${title}"`, (r) => r.length > before, 10_000);
  expect(hook.requests).toHaveLength(before + 1);
  const request = hook.requests[before];
  expect(JSON.parse(request.body).metadata.document_id).toBe(created.createDocument.id);
  return request;
}

const signaturesOf = (request: ReceivedRequest): string[] => String(request.headers['webhook-signature']).split(' ');
const standardVerify = (secret: string, request: ReceivedRequest) => () => new Verifier(secret).verify(request.body, request.headers);
const sdkVerify = (secret: string, request: ReceivedRequest) => () => verifyWebhook(secret, request.headers, request.body);

beforeAll(async () => {
  api = await startTestApi();
  projectId = await createProject(api, 'Rotation');
  token = (await createUserWithToken(api, 'admin@rotation.test', projectId, 'ADMIN')).token;
  blueprintId = ok(await api.op(token, 'CreateBlueprint', { projectId, input: { name: 'Article' } }), 'CreateBlueprint').createBlueprint.id;
  hook = await startReceiver();
  const created = ok(
    await api.op(token, 'CreateWebhook', { projectId, input: { name: 'rotating', url: hook.url, triggers: ['DOCUMENT_CREATE'] } }),
    'CreateWebhook',
  ).createWebhook;
  webhookId = created.id;
  oldSecret = created.signingSecret;
});

afterAll(async () => {
  await hook?.close();
  await api?.close();
});

test('before any rotation, one signature under the only secret', async () => {
  const request = await deliverEvent('before');
  expect(signaturesOf(request)).toHaveLength(1);
  expect(standardVerify(oldSecret, request)).not.toThrow();
});

test('RotateWebhookSecret answers a new whsec_ secret, which Webhook then shows', async () => {
  const rotated = ok(await api.op(token, 'RotateWebhookSecret', { id: webhookId }), 'RotateWebhookSecret').rotateWebhookSecret;
  expect(rotated.id).toBe(webhookId);
  expect(rotated.signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
  expect(rotated.signingSecret).not.toBe(oldSecret);
  newSecret = rotated.signingSecret;
  const read = ok(await api.op(token, 'Webhook', { id: webhookId }), 'Webhook').webhook;
  expect(read.signingSecret).toBe(newSecret);
});

test('during the grace period an event carries two signatures; the old and the new secret both verify', async () => {
  const request = await deliverEvent('during');
  const signatures = signaturesOf(request);
  expect(signatures).toHaveLength(2);
  for (const signature of signatures) expect(signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  expect(signatures[0]).not.toBe(signatures[1]);
  expect(standardVerify(oldSecret, request)).not.toThrow();
  expect(standardVerify(newSecret, request)).not.toThrow();
  expect(sdkVerify(oldSecret, request)).not.toThrow();
  expect(sdkVerify(newSecret, request)).not.toThrow();
  expect(sdkVerify(newSecret, request)().event_id).toBe(request.headers['webhook-id']);
  // A secret that was never the webhook's does not.
  const stranger = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
  expect(standardVerify(stranger, request)).toThrow();
  expect(sdkVerify(stranger, request)).toThrow(WebhookVerificationError);
});

test('a test send during the grace period is signed under both secrets too', async () => {
  const before = hook.requests.length;
  const sent = ok(await api.op(token, 'TestWebhook', { id: webhookId }), 'TestWebhook').testWebhook;
  expect(sent.success).toBe(true);
  const request = hook.requests[before];
  expect(signaturesOf(request)).toHaveLength(2);
  expect(standardVerify(oldSecret, request)).not.toThrow();
  expect(standardVerify(newSecret, request)).not.toThrow();
});

test('once the grace period is over, only the new secret signs', async () => {
  // The expiry is the clock the service reads; moving it into the past ends the grace period now.
  await api.app.dataSource.query(`UPDATE webhook SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1`, [webhookId]);
  const request = await deliverEvent('after');
  expect(signaturesOf(request)).toHaveLength(1);
  expect(signaturesOf(request)[0]).toMatch(/^v1,/);
  expect(standardVerify(newSecret, request)).not.toThrow();
  expect(sdkVerify(newSecret, request)).not.toThrow();
  expect(standardVerify(oldSecret, request)).toThrow();
  expect(sdkVerify(oldSecret, request)).toThrow(WebhookVerificationError);
});

test('a second rotation retires the first secret at once and keeps the second for the grace period', async () => {
  const third = ok(await api.op(token, 'RotateWebhookSecret', { id: webhookId }), 'RotateWebhookSecret').rotateWebhookSecret.signingSecret;
  expect([oldSecret, newSecret]).not.toContain(third);
  const request = await deliverEvent('second rotation');
  expect(signaturesOf(request)).toHaveLength(2);
  expect(standardVerify(third, request)).not.toThrow();
  expect(standardVerify(newSecret, request)).not.toThrow();
  expect(standardVerify(oldSecret, request)).toThrow();
});

test('only an ADMIN may rotate: VIEWER and EDITOR are FORBIDDEN, an outsider NOT_FOUND', async () => {
  const viewer = await createUserWithToken(api, 'viewer@rotation.test', projectId, 'VIEWER');
  const editor = await createUserWithToken(api, 'editor@rotation.test', projectId, 'EDITOR');
  const elsewhere = await createProject(api, 'Elsewhere');
  const outsider = await createUserWithToken(api, 'outsider@rotation.test', elsewhere, 'OWNER');
  const before = ok(await api.op(token, 'Webhook', { id: webhookId }), 'Webhook').webhook.signingSecret;
  expect(codeOf(await api.op(viewer.token, 'RotateWebhookSecret', { id: webhookId }))).toBe('FORBIDDEN');
  expect(codeOf(await api.op(editor.token, 'RotateWebhookSecret', { id: webhookId }))).toBe('FORBIDDEN');
  expect(codeOf(await api.op(outsider.token, 'RotateWebhookSecret', { id: webhookId }))).toBe('NOT_FOUND');
  expect(ok(await api.op(token, 'Webhook', { id: webhookId }), 'Webhook').webhook.signingSecret).toBe(before);
});
