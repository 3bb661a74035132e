import { startTestApi, TestApi } from '../support/api';
import { captureLog } from '../support/log';
import { Receiver, startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';

/**
 * A webhook whose calls have all failed for WEBHOOK_AUTO_DISABLE_AFTER is disabled with a
 * reason the frontend shows, instead of being retried for ever. The "days of failures" are
 * log rows dated back with SQL: that is the clock the rule reads.
 */
let api: TestApi;
let receiver: Receiver;
let projectId: string;
let blueprintId: string;
const captured = captureLog();
const disabledLines = (webhookId: string) => captured.records.filter((r) => r.msg?.startsWith('webhook disabled automatically') && r.webhookId === webhookId);

beforeAll(async () => {
  api = await startTestApi({ WEBHOOK_RETRY_SCHEDULE: '10ms', WEBHOOK_AUTO_DISABLE_AFTER: '120h' }, undefined, captured.log);
  receiver = await startReceiver(() => ({ status: 503, body: 'down' }));
  projectId = (await api.op(api.adminToken, 'CreateProject', { input: { name: 'p' } })).data.createProject.id;
  blueprintId = (await api.op(api.adminToken, 'CreateBlueprint', { projectId, input: { name: 'Post' } })).data.createBlueprint.id;
});
afterAll(async () => {
  await api.close();
  await receiver.close();
});

async function webhookWithHistory(history: Array<{ success: boolean; daysAgo: number }>): Promise<string> {
  const created = await api.op(api.adminToken, 'CreateWebhook', { projectId, input: { name: 'w', url: receiver.url, triggers: ['DOCUMENT_CREATE'] } });
  const id = created.data.createWebhook.id;
  for (const { success, daysAgo } of history) {
    await api.app.dataSource.query(
      `INSERT INTO webhook_call (webhook_id, project_id, event_id, trigger, kind, attempt, success, duration_ms, created_at,
                                 request_method, request_url, request_headers, request_body)
       VALUES ($1, $2, gen_random_uuid(), 'document_create', 'EVENT', 1, $3, 5, now() - $4 * interval '1 day', 'POST', $5, '[]', '{}')`,
      [id, projectId, success, daysAgo, receiver.url],
    );
  }
  return id;
}

async function failOneDeliveryForGood(webhookId: string): Promise<void> {
  await api.op(api.adminToken, 'CreateDocument', { projectId, input: { blueprintId, title: 'x' } });
  await waitUntil('the delivery to fail for good', async () => {
    const [row] = await api.app.dataSource.query(`SELECT count(*)::int AS n FROM webhook_delivery WHERE webhook_id = $1 AND status = 'failed'`, [webhookId]);
    return row.n > 0;
  }, 15_000);
}

test('failing for longer than the window: disabled, with a reason naming the window and the first failure', async () => {
  const id = await webhookWithHistory([{ success: true, daysAgo: 9 }, { success: false, daysAgo: 6 }]);
  await failOneDeliveryForGood(id);
  // The check runs once the failure is recorded, a moment after the delivery reads failed;
  // its line, at error (an operator's alert can key on it), says it has run.
  await waitUntil('the auto-disable line', () => disabledLines(id).length > 0);
  expect(disabledLines(id)).toEqual([expect.objectContaining({ level: 'error', webhookId: id })]);
  const { data } = await api.op(api.adminToken, 'Webhook', { id });
  expect(data.webhook.enabled).toBe(false);
  expect(data.webhook.disabledReason).toMatch(/^Disabled automatically: every call failed for 120 hours \(since \d{4}-\d\d-\d\dT/);
  await api.op(api.adminToken, 'UpdateWebhook', { id, input: { enabled: true } });
  const again = await api.op(api.adminToken, 'Webhook', { id });
  expect(again.data.webhook).toMatchObject({ enabled: true, disabledReason: null });
});

test('a success inside the window, or failures younger than it, keep the webhook enabled', async () => {
  const recentSuccess = await webhookWithHistory([{ success: false, daysAgo: 6 }, { success: true, daysAgo: 1 }]);
  const youngFailures = await webhookWithHistory([{ success: false, daysAgo: 2 }]);
  await failOneDeliveryForGood(recentSuccess);
  await failOneDeliveryForGood(youngFailures);
  for (const id of [recentSuccess, youngFailures]) {
    const { data } = await api.op(api.adminToken, 'Webhook', { id });
    expect(data.webhook).toMatchObject({ enabled: true, disabledReason: null });
    expect(disabledLines(id)).toEqual([]);
  }
});
