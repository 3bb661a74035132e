import { Client } from 'pg';
import { codeOf, GqlResult, startTestApi, TestApi } from '../support/api';

/**
 * Two changes to one webhook at the same time must both survive. To make the interleaving
 * certain rather than likely, a separate connection holds the webhook's row lock while both
 * requests are sent, and lets go only once both are waiting for it.
 */

let api: TestApi;
let db: Client;
let observer: Client;
let projectId: string;

beforeAll(async () => {
  api = await startTestApi({ ROLE: 'api' }); // deliveries are not the subject here
  db = new Client({ connectionString: api.databaseUrl });
  await db.connect();
  observer = new Client({ connectionString: api.databaseUrl });
  await observer.connect();
  const project = await api.op(api.adminToken, 'CreateProject', { input: { name: 'Concurrency' } });
  projectId = project.data.createProject.id;
});

afterAll(async () => {
  await db?.end();
  await observer?.end();
  await api?.close();
});

async function createWebhook(): Promise<{ id: string; signingSecret: string }> {
  const result = await api.op(api.adminToken, 'CreateWebhook', {
    projectId,
    input: { name: 'original', description: 'original', url: 'http://127.0.0.1:9/hook', triggers: ['DOCUMENT_CREATE'] },
  });
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data.createWebhook;
}

/** Runs `requests` while the webhook's row is locked, releasing it once `waiting` of them block on it. */
async function whileRowLocked<T>(webhookId: string, waiting: number, requests: () => Array<Promise<T>>): Promise<T[]> {
  await db.query('BEGIN');
  await db.query('SELECT id FROM webhook WHERE id = $1 FOR UPDATE', [webhookId]);
  const pending = requests();
  let settled = 0;
  for (const p of pending) void p.finally(() => settled++).catch(() => undefined);
  try {
    // Poll the condition itself: how many sessions of this database wait for a lock. (On a
    // connection of its own: inside the locking transaction, pg_stat_activity stays a snapshot.)
    for (;;) {
      const { rows } = await observer.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      // A request that answered without waiting (an error, say) must not make this hang.
      if (rows[0].n + settled >= waiting) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    await db.query('COMMIT');
  }
  return Promise.all(pending);
}

test('two concurrent UpdateWebhook calls changing different fields both persist', async () => {
  const webhook = await createWebhook();
  const [renamed, described] = await whileRowLocked<GqlResult>(webhook.id, 2, () => [
    api.op(api.adminToken, 'UpdateWebhook', { id: webhook.id, input: { name: 'renamed' } }),
    api.op(api.adminToken, 'UpdateWebhook', { id: webhook.id, input: { description: 'described' } }),
  ]);
  expect([codeOf(renamed), codeOf(described)]).toEqual(['OK', 'OK']);
  const after = await api.op(api.adminToken, 'Webhook', { id: webhook.id });
  expect({ name: after.data.webhook.name, description: after.data.webhook.description }).toEqual({ name: 'renamed', description: 'described' });
});

test('two concurrent RotateWebhookSecret calls: both secrets handed out stay valid (one current, one previous)', async () => {
  const webhook = await createWebhook();
  const results = await whileRowLocked<GqlResult>(webhook.id, 2, () => [
    api.op(api.adminToken, 'RotateWebhookSecret', { id: webhook.id }),
    api.op(api.adminToken, 'RotateWebhookSecret', { id: webhook.id }),
  ]);
  expect(results.map(codeOf)).toEqual(['OK', 'OK']);
  const issued = results.map((r) => r.data.rotateWebhookSecret.signingSecret as string);
  const { rows } = await db.query('SELECT signing_secret, previous_signing_secret FROM webhook WHERE id = $1', [webhook.id]);
  // The secret of the rotation that committed first is the previous one of the second; the original is gone.
  expect([rows[0].signing_secret, rows[0].previous_signing_secret].sort()).toEqual([...issued].sort());
});
