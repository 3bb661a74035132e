import { Webhook as Verifier } from 'standardwebhooks';
import { codeOf, createProject, createUserWithToken, ok, startTestApi, type TestApi } from '../support/api';
import { type Receiver, startReceiver } from '../support/receiver';
import { createEndpoint, verifiedEnvelope } from './helpers';

/**
 * What an operator does with a notification endpoint besides creating it: send it a test
 * notification, and rotate its signing secret. Real receivers on loopback; requests verify
 * with the `standardwebhooks` package.
 */
let api: TestApi;
const receivers: Receiver[] = [];

beforeAll(async () => {
  api = await startTestApi();
});

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

afterAll(async () => {
  await api?.close();
});

async function receiver(reply?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(reply);
  receivers.push(r);
  return r;
}

const SEND_TEST = `mutation($id: ID!) { sendTestNotification(endpointId: $id) {
  id endpointId projectId eventId type attempt success error responseStatusCode requestBody requestHeaders { name value }
} }`;
const ROTATE = `mutation($id: ID!) { rotateNotificationEndpointSecret(endpointId: $id) { id signingSecret } }`;
const CALLS = `query($p: ID!, $e: ID) { notificationCalls(projectId: $p, endpointId: $e) { edges { node { id eventId type success } } } }`;
const WEBHOOK_CALLS = `query($p: ID!) { webhookCalls(projectId: $p) { edges { node { id } } } }`;

const sendTest = async (endpointId: string, token = api.adminToken) => ok(await api.gql(token, SEND_TEST, { id: endpointId }), 'sendTestNotification').sendTestNotification;

test('a test notification arrives at once, signed with the endpoint secret, marked as a test, and is logged among the notification calls', async () => {
  const projectId = await createProject(api, 'Test send');
  const target = await receiver(() => ({ status: 202 }));
  const endpoint = await createEndpoint(api, projectId, target.url, { types: ['WEBHOOK_RECOVERED'], enabled: false });

  const call = await sendTest(endpoint.id);
  // Sent before the mutation answered, even though the endpoint is disabled and not subscribed to `webhook.failing`.
  expect(target.requests).toHaveLength(1);
  expect(call).toMatchObject({ endpointId: endpoint.id, projectId, type: 'WEBHOOK_FAILING', attempt: 1, success: true, error: null, responseStatusCode: 202 });

  const [request] = target.requests;
  expect(request.headers['webhook-id']).toBe(call.eventId);
  expect(request.headers['content-type']).toBe('application/json');
  const envelope = verifiedEnvelope(request, endpoint.signingSecret);
  expect(envelope).toMatchObject({ type: 'webhook.failing', version: 1, event_id: call.eventId, test: true });
  expect(envelope.data).toMatchObject({ project_id: projectId, state: 'failing', previous_state: 'healthy', name: 'Example webhook' });
  expect(Object.keys(envelope.data).sort()).toEqual(
    ['consecutive_failures', 'disabled_at', 'failing_since', 'failure_rate', 'name', 'previous_state', 'project_id', 'reason', 'state', 'url', 'webhook_id', 'will_disable_at'].sort(),
  );
  expect(call.requestBody).toBe(request.body);
  // The logged headers never carry the secret; the signature is there to be checked.
  expect(JSON.stringify(call.requestHeaders)).not.toContain(endpoint.signingSecret.slice('whsec_'.length));
  expect(() => new Verifier(`whsec_${Buffer.alloc(24, 7).toString('base64')}`).verify(request.body, request.headers)).toThrow();

  const logged = ok(await api.gql(api.adminToken, CALLS, { p: projectId, e: endpoint.id }), 'calls').notificationCalls.edges.map((e: { node: unknown }) => e.node);
  expect(logged).toEqual([{ id: call.id, eventId: call.eventId, type: 'WEBHOOK_FAILING', success: true }]);
  // Not a CMS event: the webhook log leaves it out.
  expect(ok(await api.gql(api.adminToken, WEBHOOK_CALLS, { p: projectId }), 'webhookCalls').webhookCalls.edges).toEqual([]);
});

test("a failed test notification reports the receiver's answer, and changes nothing about the endpoint", async () => {
  const projectId = await createProject(api, 'Test send fails');
  const target = await receiver(() => ({ status: 500, body: 'down' }));
  const endpoint = await createEndpoint(api, projectId, target.url);
  const call = await sendTest(endpoint.id);
  expect(call).toMatchObject({ success: false, responseStatusCode: 500 });
  expect(call.error).toContain('500');
  const [row] = await api.app.dataSource.query(`SELECT enabled, health_state, consecutive_failures FROM webhook WHERE id = $1`, [endpoint.id]);
  expect(row).toEqual({ enabled: true, health_state: 'HEALTHY', consecutive_failures: 0 });
  // A test send retries nothing: no delivery was queued.
  const [{ n }] = await api.app.dataSource.query(`SELECT count(*)::int AS n FROM webhook_delivery WHERE webhook_id = $1`, [endpoint.id]);
  expect(n).toBe(0);
});

test('after a rotation, requests are signed by the new secret and, for a day, by the previous one too', async () => {
  const projectId = await createProject(api, 'Rotation');
  const target = await receiver();
  const endpoint = await createEndpoint(api, projectId, target.url);
  const oldSecret = endpoint.signingSecret;

  const rotated = ok(await api.gql(api.adminToken, ROTATE, { id: endpoint.id }), 'rotate').rotateNotificationEndpointSecret;
  expect(rotated.id).toBe(endpoint.id);
  expect(rotated.signingSecret).toMatch(/^whsec_/);
  expect(rotated.signingSecret).not.toBe(oldSecret);
  const [row] = await api.app.dataSource.query(`SELECT previous_secret_expires_at FROM webhook WHERE id = $1`, [endpoint.id]);
  const graceHours = (row.previous_secret_expires_at.getTime() - Date.now()) / 3_600_000;
  expect(graceHours).toBeGreaterThan(23.9);
  expect(graceHours).toBeLessThanOrEqual(24);

  expect((await sendTest(endpoint.id)).success).toBe(true);
  const [request] = target.requests;
  expect(request.headers['webhook-signature'].split(' ')).toHaveLength(2);
  expect(verifiedEnvelope(request, rotated.signingSecret).test).toBe(true);
  expect(verifiedEnvelope(request, oldSecret).test).toBe(true);

  // Once the grace period is over, only the new secret signs.
  await api.app.dataSource.query(`UPDATE webhook SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1`, [endpoint.id]);
  await sendTest(endpoint.id);
  const later = target.requests[1];
  expect(later.headers['webhook-signature'].split(' ')).toHaveLength(1);
  expect(verifiedEnvelope(later, rotated.signingSecret).type).toBe('webhook.failing');
  expect(() => verifiedEnvelope(later, oldSecret)).toThrow();
});

test('roles: ADMIN and up; FORBIDDEN for a member lacking it, NOT_FOUND outside the project; bad ids name the field', async () => {
  const projectId = await createProject(api, 'Tool roles');
  const otherProject = await createProject(api, 'Tool elsewhere');
  const target = await receiver();
  const endpoint = await createEndpoint(api, projectId, target.url);
  const editor = (await createUserWithToken(api, 'editor@tools.test', projectId, 'EDITOR')).token;
  const admin = (await createUserWithToken(api, 'admin@tools.test', projectId, 'ADMIN')).token;
  const outsider = (await createUserWithToken(api, 'outsider@tools.test', otherProject, 'OWNER')).token;

  for (const [token, code] of [
    [editor, 'FORBIDDEN'],
    [outsider, 'NOT_FOUND'],
  ] as const) {
    expect(codeOf(await api.gql(token, SEND_TEST, { id: endpoint.id }))).toBe(code);
    expect(codeOf(await api.gql(token, ROTATE, { id: endpoint.id }))).toBe(code);
  }
  expect(target.requests).toHaveLength(0);
  const [row] = await api.app.dataSource.query(`SELECT signing_secret, previous_signing_secret FROM webhook WHERE id = $1`, [endpoint.id]);
  expect(row).toEqual({ signing_secret: endpoint.signingSecret, previous_signing_secret: null });

  // A webhook of the project is not a notification endpoint.
  const webhook = ok(await api.op(api.adminToken, 'CreateWebhook', { projectId, input: { name: 'Hook', url: target.url, triggers: ['DOCUMENT_CREATE'] } }), 'createWebhook').createWebhook;
  expect(codeOf(await api.gql(admin, SEND_TEST, { id: webhook.id }))).toBe('NOT_FOUND');
  expect(codeOf(await api.gql(admin, ROTATE, { id: webhook.id }))).toBe('NOT_FOUND');

  const bad = await api.gql(admin, SEND_TEST, { id: 'nope' });
  expect(codeOf(bad)).toBe('BAD_USER_INPUT');
  expect(bad.errors![0].message).toContain('endpointId');
  expect(codeOf(await api.gql(admin, ROTATE, { id: 'nope' }))).toBe('BAD_USER_INPUT');

  expect((await sendTest(endpoint.id, admin)).success).toBe(true);
  expect(ok(await api.gql(admin, ROTATE, { id: endpoint.id }), 'rotate').rotateNotificationEndpointSecret.signingSecret).not.toBe(endpoint.signingSecret);
});
