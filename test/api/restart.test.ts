import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunningApp, startApp } from '../../src/app';
import { loadConfig } from '../../src/config/config';
import { isValidCidr } from '../../src/delivery/ssrf';
import { OPERATIONS, OperationName } from '../../sdk/operations';
import { captureLog } from '../support/log';

/**
 * Restarts as `npm start` does them: no DATABASE_URL, so the embedded PostgreSQL keeps its
 * data under DATA_DIR, and a second start on that directory finds everything again.
 */

jest.setTimeout(180_000);

interface Started {
  app: RunningApp;
  lines: string[];
  op(token: string | null, name: OperationName, variables?: Record<string, unknown>): Promise<{ data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> }>;
}

const dirs: string[] = [];
const running = new Set<RunningApp>();

function freshDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cms-restart-'));
  // As root, the embedded PostgreSQL runs as "postgres", which must be able to enter it.
  fs.chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
}

async function start(env: Record<string, string>): Promise<Started> {
  const { lines, log } = captureLog();
  const app = await startApp(loadConfig({ PORT: '0', ...env }, isValidCidr), log);
  running.add(app);
  const endpoint = `http://127.0.0.1:${app.http!.port}/graphql`;
  return {
    app,
    lines,
    op: async (token, operationName, variables) => {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query: OPERATIONS[operationName], operationName, variables }),
      });
      return (await res.json()) as never;
    },
  };
}

/** Stops the app and checks its PostgreSQL is really gone, so the next start reads the data from disk. */
async function stop(started: Started, dataDir: string): Promise<void> {
  await started.app.stop();
  running.delete(started.app);
  expect(fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
}

function tokenLines(lines: string[]): string[] {
  return lines.filter((line) => line.includes('API token'));
}

function must<T = any>(result: { data?: T; errors?: unknown[] }, what: string): T {
  if (result.errors) throw new Error(`${what} failed: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

afterAll(async () => {
  for (const app of running) await app.stop();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('with BOOTSTRAP_ADMIN_TOKEN', () => {
  const dataDir = freshDataDir();
  const token = crypto.randomBytes(24).toString('base64url').slice(0, 32);
  const created: Record<string, any> = {};

  test('first start: create a project, blueprint, document and webhook over HTTP', async () => {
    const first = await start({ DATA_DIR: dataDir, BOOTSTRAP_ADMIN_TOKEN: token });
    expect(tokenLines(first.lines)).toEqual([]); // the operator chose the token: nothing to print
    const me = must(await first.op(token, 'Me'), 'Me').me;
    expect(me.isSuperAdmin).toBe(true);
    created.userId = me.id;

    const project = must(await first.op(token, 'CreateProject', { input: { name: 'Durable' } }), 'CreateProject').createProject;
    const blueprint = must(
      await first.op(token, 'CreateBlueprint', { projectId: project.id, input: { name: 'Article', fields: [{ name: 'body', type: 'richtext' }] } }),
      'CreateBlueprint',
    ).createBlueprint;
    const document = must(
      await first.op(token, 'CreateDocument', { projectId: project.id, input: { blueprintId: blueprint.id, title: 'Kept', fields: { body: '<p>hi</p>' } } }),
      'CreateDocument',
    ).createDocument;
    const webhook = must(
      await first.op(token, 'CreateWebhook', {
        projectId: project.id,
        input: {
          name: 'Receiver',
          url: 'http://127.0.0.1:9/hook',
          triggers: ['DOCUMENT_CREATE', 'DOCUMENT_UPDATE'],
          headers: [{ name: 'X-Api-Key', value: 'a-secret-that-persists', secret: true }],
          blueprintIds: [blueprint.id],
        },
      }),
      'CreateWebhook',
    ).createWebhook;
    Object.assign(created, { project, blueprint, document, webhook });
    await stop(first, dataDir);
  });

  test('second start on the same DATA_DIR: the same token works and all the data is there', async () => {
    const second = await start({ DATA_DIR: dataDir, BOOTSTRAP_ADMIN_TOKEN: token });
    expect(tokenLines(second.lines)).toEqual([]);
    expect(second.lines.filter((l) => l.startsWith('applied '))).toEqual([]); // migrations ran once, on the first start

    const me = must(await second.op(token, 'Me'), 'Me').me;
    expect(me).toMatchObject({ id: created.userId, isSuperAdmin: true });

    const projects = must(await second.op(token, 'Projects'), 'Projects').projects;
    expect(projects).toEqual([{ id: created.project.id, name: 'Durable' }]);

    const blueprint = must(await second.op(token, 'Blueprint', { id: created.blueprint.id }), 'Blueprint').blueprint;
    expect(blueprint).toMatchObject({ projectId: created.project.id, name: 'Article', apiName: created.blueprint.apiName, fields: created.blueprint.fields });

    const document = must(await second.op(token, 'Document', { id: created.document.id }), 'Document').document;
    expect(document).toMatchObject({ title: 'Kept', fields: { body: '<p>hi</p>' }, status: 'DRAFT', blueprintId: created.blueprint.id });

    const webhook = must(await second.op(token, 'Webhook', { id: created.webhook.id }), 'Webhook').webhook;
    expect(webhook).toEqual({ ...created.webhook });
    expect(webhook.signingSecret).toBe(created.webhook.signingSecret);
    await stop(second, dataDir);
  });

  test('third start without BOOTSTRAP_ADMIN_TOKEN prints no token, and the old token still works', async () => {
    const third = await start({ DATA_DIR: dataDir });
    expect(tokenLines(third.lines)).toEqual([]);
    expect(must(await third.op(token, 'Me'), 'Me').me.id).toBe(created.userId);
    const webhooks = must(await third.op(token, 'Webhooks', { projectId: created.project.id }), 'Webhooks').webhooks;
    expect(webhooks.map((w: { id: string }) => w.id)).toEqual([created.webhook.id]);
    await stop(third, dataDir);
  });
});

describe('without BOOTSTRAP_ADMIN_TOKEN', () => {
  const dataDir = freshDataDir();
  let printed: string;

  test('the first start on an empty DATA_DIR prints a super-admin token once, and that token works', async () => {
    const first = await start({ DATA_DIR: dataDir });
    const lines = tokenLines(first.lines);
    expect(lines).toHaveLength(1);
    printed = /(\S+)\s*$/.exec(lines[0])![1];
    expect(printed.length).toBeGreaterThanOrEqual(32);
    const me = must(await first.op(printed, 'Me'), 'Me').me;
    expect(me.isSuperAdmin).toBe(true);
    must(await first.op(printed, 'CreateProject', { input: { name: 'First' } }), 'CreateProject');
    await stop(first, dataDir);
  });

  test('a restart prints no new token; the printed one keeps working', async () => {
    const again = await start({ DATA_DIR: dataDir });
    expect(tokenLines(again.lines)).toEqual([]);
    expect(again.lines.join('\n')).not.toContain(printed);
    expect(must(await again.op(printed, 'Me'), 'Me').me.isSuperAdmin).toBe(true);
    expect(must(await again.op(printed, 'Projects'), 'Projects').projects.map((p: { name: string }) => p.name)).toEqual(['First']);
    await stop(again, dataDir);
  });
});
