import crypto from 'node:crypto';
import { measureFlood, warmUp } from '../../bench/ws-flood';
import { createTestDatabase } from '../support/database';
import { ServerProcess, spawnServer } from '../support/processes';

/**
 * Issue 8, item 2: 8 unauthenticated clients each sending a 90 MB message grew the server by
 * 1.5 GB. The built server runs as its own process so its RSS is only its own; the clients
 * stream the message in fragments and hold almost nothing.
 */
const MB = 1_000_000;
let server: ServerProcess;
let port: number;

beforeAll(async () => {
  const db = await createTestDatabase('flood');
  await db.dataSource.destroy();
  server = spawnServer({ DATABASE_URL: db.url, PORT: '0', ROLE: 'api', BOOTSTRAP_ADMIN_TOKEN: `flood-${crypto.randomBytes(12).toString('hex')}` });
  await server.waitFor(/GraphQL on http:\/\/localhost:(\d+)\/graphql/, 30_000);
  port = Number(/GraphQL on http:\/\/localhost:(\d+)\/graphql/.exec(server.output())![1]);
  await warmUp(port);
});

afterAll(async () => {
  if (server && server.child.exitCode === null) server.child.kill('SIGTERM');
  await server?.exited;
});

test('8 clients × 90 MB: every socket is closed with 1009 (message too big), RSS grows by at most 50 MB', async () => {
  const result = await measureFlood(server.child.pid!, `ws://127.0.0.1:${port}/graphql`, 8, 90 * MB, 20_000);
  expect(result.codes).toEqual(Array(8).fill(1009));
  expect(result.peakRss - result.baselineRss).toBeLessThanOrEqual(50 * MB);
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  expect(health.status).toBe(200);
}, 60_000);
