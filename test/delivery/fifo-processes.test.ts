import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Actor } from '../../src/auth/actor';
import { ok, startTestApi, TestApi } from '../support/api';
import { TEST_ENV } from '../support/config';
import { spawnServer, ServerProcess } from '../support/processes';
import { collapseRetries, documentsInEventOrder, OrderedReceiver, startOrderedReceiver } from './fifo-support';

/**
 * A FIFO webhook served by two worker processes (`node dist/src/main.js`, ROLE=worker) next to
 * an API process: both claim, neither may send a delivery of it while the other has one open,
 * and the receiver sees events in their order, retries included.
 */
const TOKEN = `fifo-proc-${crypto.randomBytes(12).toString('hex')}`;
let api: TestApi;
let db: DataSource;
let actor: Actor;
let projectId: string;
let blueprintId: string;
let receiver: OrderedReceiver | undefined;
const children: ServerProcess[] = [];

beforeAll(async () => {
  api = await startTestApi({ ROLE: 'api', BOOTSTRAP_ADMIN_TOKEN: TOKEN });
  db = api.app.dataSource;
  actor = (await api.app.services.identity.authenticate(TOKEN))!;
  projectId = ok(await api.op(TOKEN, 'CreateProject', { input: { name: 'fifo-processes' } }), 'CreateProject').createProject.id;
  blueprintId = ok(await api.op(TOKEN, 'CreateBlueprint', { projectId, input: { name: 'Post' } }), 'CreateBlueprint').createBlueprint.id;
}, 60_000);

afterAll(async () => {
  for (const child of children) if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await receiver?.close();
  await api?.close();
});

async function startWorker(): Promise<ServerProcess> {
  const child = spawnServer({
    ...TEST_ENV,
    DATABASE_URL: api.databaseUrl,
    ROLE: 'worker',
    BOOTSTRAP_ADMIN_TOKEN: TOKEN,
    WEBHOOK_RETRY_SCHEDULE: '50ms,50ms',
    // Nothing may look failed but what the receiver fails: a loaded machine must not time out an attempt.
    WEBHOOK_TIMEOUT_MS: '30000',
    WEBHOOK_POLL_INTERVAL_MS: '500',
  });
  children.push(child);
  await child.waitFor(/delivery worker \S+ running/);
  return child;
}

test('two worker processes keep a FIFO webhook in order, one request at a time, through retries', async () => {
  const failing = new Set<string>();
  receiver = await startOrderedReceiver((id, earlier) => {
    // Every tenth event to arrive fails its first attempt.
    if (earlier === 0 && collapseRetries(receiver!.arrivals()).length % 10 === 0) failing.add(id);
    return failing.has(id) && earlier === 0;
  });
  const input = { name: 'ordered', url: receiver.receiver.url, triggers: ['DOCUMENT_CREATE'], fifo: true };
  ok(await api.op(TOKEN, 'CreateWebhook', { projectId, input }), 'CreateWebhook');
  const workers = [await startWorker(), await startWorker()];

  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < 50) {
        next += 1;
        await api.app.services.documents.create(actor, projectId, { blueprintId, title: `d${next}` });
      }
    }),
  );
  const expected = await documentsInEventOrder(db, projectId, blueprintId);
  expect(expected).toHaveLength(50);
  // 50 events, and a retry of each fifth of them (the last may arrive after every event has once).
  await receiver.receiver.waitUntil('every event and every retry', (r) => r.length >= 55, 90_000);

  expect(collapseRetries(receiver.arrivals())).toEqual(expected);
  expect(failing.size).toBe(5);
  expect(receiver.arrivals()).toHaveLength(55);
  expect(receiver.maxInFlight()).toBe(1);
  for (const worker of workers) worker.child.kill('SIGTERM');
  expect((await Promise.all(workers.map((w) => w.exited))).map((e) => e.code)).toEqual([0, 0]);
}, 180_000);
