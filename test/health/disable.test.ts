import { createProject, ok, startTestApi, type TestApi } from '../support/api';
import { type Receiver, startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';
import { createEndpoint, subscribed, verifiedEnvelope, type Watch, watchHealth, WEBHOOK_HEALTH } from './helpers';

/**
 * The whole cycle on short durations: every call fails, so after 3 the webhook is FAILING;
 * once every call has failed for 1 s (auto-disable after 2 s, warning 1 s ahead) comes the
 * warning; the delivery given up after that disables it. Enabled again, its next success
 * recovers it. Real retries on a 250 ms schedule carry the time forward; nothing sleeps.
 */
let api: TestApi;
let receivers: Receiver[] = [];
let watch: Watch | undefined;

beforeAll(async () => {
  api = await startTestApi({
    WEBHOOK_FAILING_AFTER: '3',
    WEBHOOK_AUTO_DISABLE_AFTER: '2s',
    WEBHOOK_DISABLE_WARNING_BEFORE: '1s',
    WEBHOOK_RETRY_SCHEDULE: Array(12).fill('250ms').join(','),
  });
});

afterAll(async () => {
  await watch?.client.dispose();
  await Promise.all(receivers.map((r) => r.close()));
  await api?.close();
});

test('failing, then the disable warning, then disabled; enabled again, recovered at its next success', async () => {
  const projectId = await createProject(api, 'Disable');
  const blueprintId = ok(await api.op(api.adminToken, 'CreateBlueprint', { projectId, input: { name: 'Post' } }), 'blueprint').createBlueprint.id;
  const endpointReceiver = await startReceiver();
  let failing = true;
  const target = await startReceiver(() => ({ status: failing ? 502 : 204 }));
  receivers = [endpointReceiver, target];
  const endpoint = await createEndpoint(api, projectId, endpointReceiver.url);
  const created = await api.op(api.adminToken, 'CreateWebhook', { projectId, input: { name: 'Mirror', url: target.url, triggers: ['DOCUMENT_CREATE'] } });
  const webhookId = ok(created, 'createWebhook').createWebhook.id;
  watch = watchHealth(api, api.adminToken, projectId);
  await subscribed(api, projectId);

  ok(await api.op(api.adminToken, 'CreateDocument', { projectId, input: { blueprintId, title: 'one' } }), 'createDocument');
  await waitUntil('the webhook to be disabled', () => watch!.changes.some((c) => c.state === 'DISABLED'), 40_000);
  expect(watch.changes.map((c) => [c.previousState, c.state, c.type])).toEqual([
    ['HEALTHY', 'FAILING', 'WEBHOOK_FAILING'],
    ['FAILING', 'DISABLE_WARNING', 'WEBHOOK_DISABLE_WARNING'],
    ['DISABLE_WARNING', 'DISABLED', 'WEBHOOK_DISABLED'],
  ]);
  const [failingChange, warning, disabled] = watch.changes;
  expect(warning.reason).toMatch(/^Every call has failed since .+Z; the webhook will be disabled when a delivery fails for good after .+Z$/);
  // Not before every call has failed for a second (the window less the lead): willDisableAt is
  // the first failure plus the 2 s window. Times are the database's (`at` to the millisecond).
  expect(Date.parse(warning.at)).toBeGreaterThanOrEqual(Date.parse(warning.willDisableAt!) - 1000 - 1);
  expect(Date.parse(warning.at)).toBeGreaterThanOrEqual(Date.parse(failingChange.at));
  expect(disabled.reason).toMatch(/^Disabled automatically: every call failed for 2 seconds \(since /);

  const webhook = ok(await api.op(api.adminToken, 'Webhook', { id: webhookId }), 'webhook').webhook;
  expect(webhook).toMatchObject({ enabled: false });
  expect(webhook.disabledReason).toBe(disabled.reason);
  const health = ok(await api.gql(api.adminToken, WEBHOOK_HEALTH, { id: webhookId }), 'health').webhook.health;
  expect(health.state).toBe('DISABLED');

  // Enabled again: FAILING (its calls have not succeeded yet), which notifies no one.
  failing = false;
  ok(await api.op(api.adminToken, 'UpdateWebhook', { id: webhookId, input: { enabled: true } }), 'enable');
  ok(await api.op(api.adminToken, 'CreateDocument', { projectId, input: { blueprintId, title: 'two' } }), 'createDocument');
  await waitUntil('the webhook to recover', () => watch!.changes.some((c) => c.state === 'HEALTHY'), 20_000);
  expect(watch.changes.slice(3).map((c) => [c.previousState, c.state, c.type])).toEqual([
    ['DISABLED', 'FAILING', null],
    ['FAILING', 'HEALTHY', 'WEBHOOK_RECOVERED'],
  ]);

  const requests = await endpointReceiver.waitForCount(4, 20_000);
  const envelopes = requests.map((r) => verifiedEnvelope(r, endpoint.signingSecret)).sort((a, b) => a.created_at.localeCompare(b.created_at));
  expect(envelopes.map((e) => e.type)).toEqual(['webhook.failing', 'webhook.disable_warning', 'webhook.disabled', 'webhook.recovered']);
  const [, warned, off] = envelopes;
  expect(warned.event_id).toBe(warning.id);
  expect(Date.parse(warned.data.will_disable_at as string)).toBe(Date.parse(warning.willDisableAt!));
  expect(Date.parse(warned.data.will_disable_at as string) - Date.parse(warned.data.failing_since as string)).toBe(2000);
  expect(off.data).toMatchObject({ state: 'disabled', previous_state: 'disable_warning', webhook_id: webhookId, name: 'Mirror' });
  expect(typeof off.data.disabled_at).toBe('string');
});
