import crypto from 'node:crypto';
import type { Actor } from '../../src/auth/actor';
import { ok, startTestApi, type TestApi } from '../support/api';
import { TEST_ENV } from '../support/config';
import { type ServerProcess, spawnServer } from '../support/processes';
import { type Receiver, startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';
import { createEndpoint, subscribed, verifiedEnvelope, type Watch, watchHealth } from './helpers';

/**
 * Two worker processes (`node dist/src/main.js`, ROLE=worker) settle the outcomes of one
 * webhook at the same time: its failures, then its successes. However their statements
 * interleave, the webhook turns FAILING once and HEALTHY once, and each is announced once.
 */
const TOKEN = `health-admin-${crypto.randomBytes(12).toString('hex')}`;
const HEALTH_ENV = { WEBHOOK_FAILING_AFTER: '3' };
let api: TestApi;
let actor: Actor;
const children: ServerProcess[] = [];
const receivers: Receiver[] = [];
let watch: Watch | undefined;

async function startWorker(): Promise<ServerProcess> {
  const child = spawnServer({
    ...TEST_ENV,
    ...HEALTH_ENV,
    DATABASE_URL: api.databaseUrl,
    ROLE: 'worker',
    BOOTSTRAP_ADMIN_TOKEN: TOKEN,
    WEBHOOK_POLL_INTERVAL_MS: '500',
    WEBHOOK_RETRY_SCHEDULE: '50ms,50ms',
  });
  children.push(child);
  await child.waitFor(/delivery worker \S+ running/);
  return child;
}

beforeAll(async () => {
  api = await startTestApi({ ROLE: 'api', BOOTSTRAP_ADMIN_TOKEN: TOKEN, ...HEALTH_ENV });
  actor = (await api.app.services.identity.authenticate(TOKEN))!;
}, 60_000);

afterAll(async () => {
  await watch?.client.dispose();
  for (const child of children) if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await Promise.all(receivers.map((r) => r.close()));
  await api?.close();
});

async function burst(projectId: string, blueprintId: string, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < count) {
        next += 1;
        await api.app.services.documents.create(actor, projectId, { blueprintId, title: `d${next}` });
      }
    }),
  );
}

const deliveries = async (webhookId: string, status: string): Promise<number> =>
  (await api.app.dataSource.query(`SELECT count(*)::int AS n FROM webhook_delivery WHERE webhook_id = $1 AND status = $2`, [webhookId, status]))[0].n;

test('two workers settling one webhook at once: exactly one failing and one recovered notification', async () => {
  const projectId = ok(await api.op(TOKEN, 'CreateProject', { input: { name: 'Two workers' } }), 'project').createProject.id;
  const blueprintId = ok(await api.op(TOKEN, 'CreateBlueprint', { projectId, input: { name: 'Post' } }), 'blueprint').createBlueprint.id;
  const endpointReceiver = await startReceiver();
  let failing = true;
  const target = await startReceiver(() => ({ status: failing ? 500 : 204 }));
  receivers.push(endpointReceiver, target);
  const endpoint = await createEndpoint(api, projectId, endpointReceiver.url);
  const created = await api.op(TOKEN, 'CreateWebhook', { projectId, input: { name: 'Shared', url: target.url, triggers: ['DOCUMENT_CREATE'] } });
  const webhookId = ok(created, 'createWebhook').createWebhook.id as string;
  watch = watchHealth(api, TOKEN, projectId);
  await subscribed(api, projectId);
  const workers = [await startWorker(), await startWorker()];

  await burst(projectId, blueprintId, 60);
  await waitUntil('all 60 deliveries to fail for good', async () => (await deliveries(webhookId, 'failed')) === 60, 90_000);
  // Both processes worked on the webhook (each logs the attempts it gave up).
  for (const worker of workers) expect(worker.output()).toContain(`"webhookId":"${webhookId}"`);

  failing = false;
  await burst(projectId, blueprintId, 40);
  await waitUntil('the 40 new deliveries to succeed', async () => (await deliveries(webhookId, 'succeeded')) === 40, 90_000);

  const queued = await api.app.dataSource.query(
    `SELECT trigger, count(*)::int AS n FROM webhook_delivery WHERE project_id = $1 AND kind = 'NOTIFICATION' GROUP BY trigger ORDER BY trigger`,
    [projectId],
  );
  expect(queued).toEqual([
    { trigger: 'webhook.failing', n: 1 },
    { trigger: 'webhook.recovered', n: 1 },
  ]);
  await waitUntil('both changes on the subscription', () => watch!.changes.length >= 2, 20_000);
  expect(watch.changes.map((c) => [c.previousState, c.state])).toEqual([
    ['HEALTHY', 'FAILING'],
    ['FAILING', 'HEALTHY'],
  ]);
  const requests = await endpointReceiver.waitForCount(2, 30_000);
  expect(requests.map((r) => verifiedEnvelope(r, endpoint.signingSecret).type).sort()).toEqual(['webhook.failing', 'webhook.recovered']);
  const [{ n }] = await api.app.dataSource.query(`SELECT count(*)::int AS n FROM webhook_health_event WHERE webhook_id = $1`, [webhookId]);
  expect(n).toBe(2);
}, 240_000);
