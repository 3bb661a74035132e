import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliEnv, freePort, runCli, spawnCli, tempHome } from '../cli/helpers';
import { createProject, createUserWithToken, ok, startTestApi, TestApi } from '../support/api';

/**
 * The SDK as a receiver gets it: `npm pack` of sdk/, installed in an empty directory, then the
 * example receiver (the repository's, compiled) and the installed `cms-webhooks listen` run
 * from that install, the way a developer wires them up: every save arrives, verified.
 *
 * Offline and deterministic: the SDK's runtime dependencies are packed from this repository's
 * own node_modules and installed beside it, so npm never asks the registry.
 */
const ROOT = path.join(__dirname, '..', '..');
const RUNTIME_DEPENDENCIES = ['ws', 'graphql-ws', 'graphql']; // graphql: graphql-ws's peer

let api: TestApi;
let dir: string;
let app: string;
let files: string[];
let bin: string;
const children: Array<{ stop(): Promise<unknown> }> = [];

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cms-sdk-pack-'));
  const [packed] = JSON.parse(npm(['pack', path.join(ROOT, 'sdk'), '--pack-destination', dir, '--json'], ROOT)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = packed.files.map((f) => f.path);
  const tarballs = [path.join(dir, packed.filename)];
  for (const name of RUNTIME_DEPENDENCIES) {
    const filename = npm(['pack', path.join(ROOT, 'node_modules', name), '--pack-destination', dir, '--ignore-scripts'], ROOT).trim().split('\n').pop()!;
    tarballs.push(path.join(dir, filename));
  }
  app = path.join(dir, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'receiver-app', version: '1.0.0', private: true }));
  npm(['install', '--offline', '--ignore-scripts', ...tarballs], app);
  // The example receiver as compiled by the build; it requires 'cms-webhooks-sdk', which now
  // resolves to the install in app/node_modules.
  fs.copyFileSync(path.join(ROOT, 'dist', 'examples', 'receiver.js'), path.join(app, 'receiver.js'));
  bin = path.join(app, 'node_modules', '.bin', 'cms-webhooks');
  api = await startTestApi({ ROLE: 'api' });
}, 120_000);

afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
  await api?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the package holds the build, its types, the command and the README, and no tests or sources', () => {
  expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/generated/graphql.js']));
  expect(files.filter((f) => /\.test\.|\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
  expect(fs.readFileSync(path.join(app, 'node_modules', 'cms-webhooks-sdk', 'dist', 'cli', 'main.js'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
});

test('the installed command runs', async () => {
  const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'sdk', 'package.json'), 'utf8')).version as string;
  expect(execFileSync(bin, ['--version'], { encoding: 'utf8' })).toBe(`${version}\n`);
  const { code, stdout } = await runCli(['listen', '--help'], cliEnv(tempHome()), undefined, bin);
  expect({ code, first: stdout.split('\n')[0] }).toEqual({ code: 0, first: 'Usage: cms-webhooks listen --forward-to URL (--project ID | --webhook ID) [options]' });
});

test('the example receiver from the install gets every save through the installed cms-webhooks listen', async () => {
  const projectId = await createProject(api, 'Installed');
  const admin = await createUserWithToken(api, 'admin@installed.test', projectId, 'ADMIN');
  const reader = await createUserWithToken(api, 'reader@installed.test', projectId, 'VIEWER');
  const blueprintId = ok(await api.op(api.adminToken, 'CreateBlueprint', { projectId, input: { name: 'Note', fields: [] } }), 'CreateBlueprint').createBlueprint.id;
  const home = tempHome();
  const secret = execFileSync(bin, ['listen', '--print-secret'], { encoding: 'utf8', env: cliEnv(home) }).trim();

  const port = await freePort();
  const receiver = spawnCli([], cliEnv(home, { CMS_WEBHOOK_SECRET: secret, CMS_TOKEN: reader.token, CMS_URL: api.url, PORT: String(port) }), path.join(app, 'receiver.js'));
  children.push(receiver);
  await receiver.waitFor(/receiving on/);

  const listen = spawnCli(['listen', '--project', projectId, '--forward-to', `http://127.0.0.1:${port}/`, '--api-url', api.url], cliEnv(home, { CMS_TOKEN: admin.token }), bin);
  children.push({ stop: () => listen.stop() });
  await listen.waitFor(/Ready: forwarding/);
  const deadline = Date.now() + 10_000;
  while (api.app.services.eventFeed.subscriberCount() === 0) {
    if (Date.now() > deadline) throw new Error('listen never subscribed');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }

  const titles = ['First note', 'Second note', 'Third note'];
  for (const title of titles) ok(await api.op(admin.token, 'CreateDocument', { projectId, input: { blueprintId, title } }), 'CreateDocument');
  // The receiver prints one line per event it verified and handled, with the document it fetched.
  await receiver.waitFor(/(document_create [0-9a-f-]{36} → "[^"]+" \(DRAFT\)\n[^]*){3}/);
  // Each line is printed once the document is fetched, so lines may come in any order.
  expect(receiver.stdout().match(/→ "[^"]+"/g)!.sort()).toEqual(titles.map((t) => `→ "${t}"`).sort());
  await listen.waitForLines(3);
  expect(listen.stdout().match(/→ 204/g)).toHaveLength(3);
}, 60_000);
