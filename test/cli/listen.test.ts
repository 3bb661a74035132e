import fs from 'node:fs';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { createProject, ok, startTestApi, TestApi } from '../support/api';
import { ReceivedRequest, Receiver, ReceiverOptions, ReplyFunction, startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';
import { cliEnv, CliProcess, freePort, spawnCli, tempHome } from './helpers';

/**
 * `cms-webhooks listen` end to end: the built command as a child process, the server, and a
 * receiver on 127.0.0.1 standing in for the developer's local app. Saves go through one
 * server (the "writer"); listen connects to another on the same database, pinned to a port,
 * so that one can be stopped and started again while saves go on.
 */
let writer: TestApi;
let listenServer: TestApi;
let listenPort: number;
let projectId: string;
let articles: string;
let pages: string;
const running: CliProcess[] = [];
const receivers: Receiver[] = [];

type Line = { eventId: string; trigger: string; documentId?: string; status?: number; error?: string; durationMs: number };

const startListenServer = () => startTestApi({ BOOTSTRAP_ADMIN_TOKEN: writer.adminToken, PORT: String(listenPort), ROLE: 'api' }, writer.databaseUrl);

async function receiver(reply?: ReplyFunction, options?: ReceiverOptions): Promise<Receiver> {
  const started = await startReceiver(reply, options);
  receivers.push(started);
  return started;
}

/** The receiver's wait, failing with what listen printed: that says where an event stopped. */
async function received(local: Receiver, cli: CliProcess, count: number, what: string): Promise<void> {
  await local.waitUntil(what, (r) => r.length >= count, 20_000).catch((error: Error) => {
    throw new Error(`${error.message}\nlisten's stderr:\n${cli.stderr()}\nlisten's stdout:\n${cli.stdout()}`);
  });
}

/** listen against the pinned server, started and subscribed (events saved from now on reach it). */
async function startListen(args: string[], { json = true } = {}): Promise<{ cli: CliProcess; home: string }> {
  const home = tempHome();
  const before = listenServer.app.services.eventFeed.subscriberCount();
  const flags = ['listen', '--api-url', listenServer.url, ...(json ? ['--json'] : []), ...args];
  const cli = spawnCli(flags, cliEnv(home, { CMS_TOKEN: writer.adminToken }));
  running.push(cli);
  await cli.waitFor(/Ready: forwarding/);
  await waitUntil('the server to hold the stream', () => listenServer.app.services.eventFeed.subscriberCount() > before);
  return { cli, home };
}

async function save(blueprintId: string, title: string): Promise<string> {
  return ok(await writer.op(writer.adminToken, 'CreateDocument', { projectId, input: { blueprintId, title } }), 'CreateDocument').createDocument.id;
}

const documentOf = (request: ReceivedRequest) => JSON.parse(request.body).metadata.document_id as string;

beforeAll(async () => {
  writer = await startTestApi();
  listenPort = await freePort();
  listenServer = await startListenServer();
  projectId = await createProject(writer, 'Listen');
  const blueprint = async (name: string) =>
    ok(await writer.op(writer.adminToken, 'CreateBlueprint', { projectId, input: { name, fields: [] } }), 'CreateBlueprint').createBlueprint.id as string;
  articles = await blueprint('Article');
  pages = await blueprint('Page');
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((cli) => cli.stop()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

afterAll(async () => {
  await listenServer?.close();
  await writer?.close();
});

test('a burst of 50 saves: each event arrives once, signed with the local secret the public verifier accepts', async () => {
  const local = await receiver();
  const { cli, home } = await startListen(['--project', projectId, '--forward-to', local.url]);
  const secret = fs.readFileSync(path.join(home, '.config', 'cms-webhooks', 'listen-secret'), 'utf8').trim();
  expect(cli.stderr()).toContain(`Signing with the local secret ${secret}`);

  const saved = await Promise.all(Array.from({ length: 50 }, (_, i) => save(articles, `burst ${i}`)));
  await received(local, cli, 50, '50 requests');
  await cli.waitForLines(50);

  expect(local.requests.map(documentOf).sort()).toEqual([...saved].sort());
  expect(new Set(local.requests.map((r) => r.headers['webhook-id'])).size).toBe(50);
  const verifier = new Webhook(secret);
  for (const request of local.requests) {
    const payload = verifier.verify(request.body, request.headers as Record<string, string>) as { event_id: string; webhook: { trigger: string } };
    expect(payload.event_id).toBe(request.headers['webhook-id']);
    expect(payload.webhook.trigger).toBe('document_create');
    expect(request.method).toBe('POST');
  }
  const lines = cli.json<Line>();
  expect(lines).toHaveLength(50);
  expect(lines.every((l) => l.status === 204 && l.trigger === 'document_create')).toBe(true);
  expect(lines.map((l) => l.documentId).sort()).toEqual([...saved].sort());
}, 60_000);

test('the server is stopped for 2 s in the middle of a burst: listen reconnects and nothing is lost, nothing doubled', async () => {
  const local = await receiver();
  const { cli } = await startListen(['--project', projectId, '--forward-to', local.url]);
  const saved: string[] = [];
  for (let i = 0; i < 20; i++) saved.push(await save(pages, `before ${i}`));
  await received(local, cli, 20, 'the saves before the stop');

  await listenServer.close();
  await cli.waitFor(/connection lost/);
  // The outage itself: saves go on through the other server while this one is away (as many
  // as the machine manages in 2 s, up to 15).
  const downUntil = Date.now() + 2000;
  while (Date.now() < downUntil) {
    if (saved.length < 35) saved.push(await save(pages, `during ${saved.length}`));
    else await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(saved.length).toBeGreaterThan(20);
  listenServer = await startListenServer();
  await cli.waitFor(/reconnected; replaying what happened after event/, 20_000);
  for (let i = 0; i < 15; i++) saved.push(await save(pages, `after ${i}`));

  await received(local, cli, saved.length, 'every save');
  await cli.waitForLines(saved.length);
  // One save at a time, so the order is known: the stream keeps it across the restart.
  expect(local.requests.map(documentOf)).toEqual(saved);
  expect(cli.json<Line>().map((l) => l.status)).toEqual(Array(saved.length).fill(204));
  // Up to 50 saves one after the other, an outage, a reconnect after backoff: more than 30 s on a loaded machine.
}, 90_000);

test('--webhook: only what the webhook gets, with its method, its headers and its own secret', async () => {
  const created = ok(
    await writer.op(writer.adminToken, 'CreateWebhook', {
      projectId,
      input: {
        name: 'search index',
        url: 'https://search.example.test/hook', // never called: the webhook is disabled
        method: 'PUT',
        triggers: ['DOCUMENT_CREATE'],
        blueprintIds: [articles],
        enabled: false,
        headers: [
          { name: 'X-Team', value: 'blue' },
          { name: 'X-Api-Key', value: 'never-leaves-the-cms', secret: true },
        ],
      },
    }),
    'CreateWebhook',
  ).createWebhook;
  const local = await receiver();
  const { cli } = await startListen(['--webhook', created.id, '--forward-to', local.url, '--header', 'X-Local: yes']);
  expect(cli.stderr()).toMatch(/header X-Api-Key is secret and never leaves the CMS: not sent/);

  await save(pages, 'not this blueprint');
  const first = await save(articles, 'wanted 1');
  ok(await writer.op(writer.adminToken, 'SetDocumentStatus', { id: first, status: 'PUBLISHED' }), 'publish'); // not its trigger
  const second = await save(articles, 'wanted 2');
  await received(local, cli, 2, 'the two matching events');
  const last = await save(articles, 'marker');
  await received(local, cli, 3, 'the marker');

  // Had anything else been forwarded, it would sit before the marker.
  expect(local.requests.map(documentOf)).toEqual([first, second, last]);
  const verifier = new Webhook(created.signingSecret);
  for (const request of local.requests) {
    expect(request.method).toBe('PUT');
    expect(request.headers).toMatchObject({ 'x-team': 'blue', 'x-local': 'yes', 'content-type': 'application/json' });
    expect(request.headers['x-api-key']).toBeUndefined();
    expect(JSON.parse(request.body).webhook).toEqual({ trigger: 'document_create', webhook_id: created.id });
    verifier.verify(request.body, request.headers as Record<string, string>);
  }
});

test('a local server answering 500, then not running at all: each failure is printed and listen keeps going', async () => {
  let status = 500;
  const local = await receiver(() => ({ status }));
  const port = Number(new URL(local.url).port);
  const { cli } = await startListen(['--project', projectId, '--forward-to', local.url]);

  const failing = await save(pages, 'answered 500');
  await cli.waitFor(/"status":500/);
  await local.close();
  receivers.splice(receivers.indexOf(local), 1);
  const unanswered = await save(pages, 'nobody listening');
  await cli.waitFor(/"error":"ECONNREFUSED"/);
  status = 204;
  const back = await receiver(() => ({ status }), { port });
  const delivered = await save(pages, 'back again');
  await back.waitUntil('the request after the local server came back', (r) => r.length >= 1, 20_000);
  await cli.waitForLines(3);

  expect(cli.json<Line>().map((l) => [l.documentId, l.status ?? l.error])).toEqual([
    [failing, 500],
    [unanswered, 'ECONNREFUSED'],
    [delivered, 204],
  ]);
  expect(back.requests.map(documentOf)).toEqual([delivered]);
  expect(cli.child.exitCode).toBeNull();
});

test('the human line names time, trigger, ids, status and duration; Ctrl-C ends listen with 0', async () => {
  const local = await receiver();
  const { cli } = await startListen(['--project', projectId, '--forward-to', local.url], { json: false });
  expect(cli.stderr()).toContain(`Ready: forwarding events of project ${projectId} to ${local.url}`);
  const id = await save(articles, 'human');
  await cli.waitFor(/→ 204/);
  expect(cli.stdout()).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  document_create +doc ${id}  event [0-9a-f-]{36}  → 204 \\d+ ms\\n$`));
  expect(cli.stdout()).not.toContain('\u001b['); // no colour when stdout is not a terminal
  expect(await cli.stop()).toBe(0);
});

test('--webhook with a body template: the rendered body goes out with its content type, signed, and the line still names the event', async () => {
  const created = ok(
    await writer.gql(writer.adminToken, `mutation($p: ID!, $i: WebhookInput!) { createWebhook(projectId: $p, input: $i) { id signingSecret } }`, {
      p: projectId,
      i: {
        name: 'chat',
        url: 'https://chat.example.test/hook', // never called: the webhook is disabled
        triggers: ['DOCUMENT_CREATE'],
        enabled: false,
        bodyFormat: 'TEXT',
        bodyTemplate: '{{ document.title }} ({{ blueprint.name }})',
      },
    }),
    'createWebhook',
  ).createWebhook;
  const local = await receiver();
  const { cli } = await startListen(['--webhook', created.id, '--forward-to', local.url]);
  await save(articles, 'templated');
  await received(local, cli, 1, 'the templated event');
  const [request] = local.requests;
  expect(request.body).toBe('templated (Article)');
  expect(request.headers['content-type']).toBe('text/plain; charset=utf-8');
  // standardwebhooks' verify() parses JSON; its sign() checks a text body's signature.
  const expected = new Webhook(created.signingSecret).sign(request.headers['webhook-id'], new Date(Number(request.headers['webhook-timestamp']) * 1000), request.body);
  expect(request.headers['webhook-signature'].split(' ')).toContain(expected);
  await cli.waitForLines(1);
  expect(cli.json<Line>()[0]).toMatchObject({ trigger: 'document_create', status: 204 });
  expect(cli.json<Line>()[0].documentId).toBeUndefined();
});
