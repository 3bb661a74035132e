import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnServer, ServerProcess } from '../support/processes';

/**
 * `npm start` as an operator runs it: the built server with the embedded PostgreSQL. SIGTERM
 * must stop everything, PostgreSQL included; after a SIGKILL, the next start adopts the
 * PostgreSQL left behind instead of failing on its lock file, and stops it when it stops.
 */
const token = `shutdown-${crypto.randomBytes(12).toString('hex')}`;
let dataDir: string;
const started: ServerProcess[] = [];

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cms-shutdown-'));
  fs.chmodSync(dataDir, 0o755);
});
afterAll(async () => {
  for (const s of started) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  await Promise.all(started.map((s) => s.exited));
  const pid = postmasterPid();
  if (pid) process.kill(pid, 'SIGINT');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function postmasterPid(): number | undefined {
  const file = path.join(dataDir, 'pg', 'postmaster.pid');
  return fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8').split('\n')[0]) : undefined;
}

async function start(): Promise<{ server: ServerProcess; port: number }> {
  const server = spawnServer({ DATA_DIR: dataDir, PORT: '0', BOOTSTRAP_ADMIN_TOKEN: token });
  started.push(server);
  await server.waitFor(/GraphQL on http:\/\/localhost:(\d+)\/graphql/, 60_000);
  const port = Number(/GraphQL on http:\/\/localhost:(\d+)\/graphql/.exec(server.output())![1]);
  return { server, port };
}

async function projectsVisible(port: number): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ projects { name } }' }),
  });
  return ((await res.json()) as { data: { projects: Array<{ name: string }> } }).data.projects.map((p) => p.name);
}

test('SIGTERM stops the server and its embedded PostgreSQL, and exits 0', async () => {
  const { server, port } = await start();
  await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: 'mutation { createProject(input: {name: "kept"}) { id } }' }),
  });
  server.child.kill('SIGTERM');
  expect(await server.exited).toEqual({ code: 0, signal: null });
  expect(server.output()).toMatch(/embedded PostgreSQL stopped/);
  expect(postmasterPid()).toBeUndefined();
}, 90_000);

test('after a SIGKILL the next start adopts the PostgreSQL left running, keeps the data, and stops it', async () => {
  const first = await start();
  first.server.child.kill('SIGKILL');
  await first.server.exited;
  const orphan = postmasterPid();
  expect(orphan).toBeDefined();

  const second = await start();
  expect(second.server.output()).toMatch(/adopting the embedded PostgreSQL left running/);
  expect(await projectsVisible(second.port)).toEqual(['kept']);
  second.server.child.kill('SIGTERM');
  const exit = await second.server.exited;
  expect({ ...exit, output: exit.code === 0 ? '' : second.server.output() }).toEqual({ code: 0, signal: null, output: '' });
  expect(postmasterPid()).toBeUndefined();
}, 90_000);
