import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CmsApiError, CmsClient } from './client';
import { OPERATIONS, type OperationName } from './operations';
import type { CmsDocument, Connection, WebhookCall } from './types';

// A stand-in GraphQL endpoint: records each request and answers what the test set up.
interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: { query?: string; variables?: Record<string, unknown>; operationName?: string };
}
interface Reply {
  status?: number;
  contentType?: string;
  body: string;
}

let server: Server;
let url: string;
let received: Received[] = [];
let reply: Reply = { body: '{}' };

const token = 'tok_3c4f1b2a9d8e';

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'application/json' });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
});

beforeEach(() => {
  received = [];
  reply = { body: '{}' };
});

const answer = (data: unknown, status = 200) => {
  reply = { status, body: JSON.stringify({ data }) };
};

const client = () => new CmsClient({ url, token });

const webhookCall: WebhookCall = {
  id: 'c1',
  webhookId: 'w1',
  projectId: 'p1',
  eventId: 'e1',
  trigger: 'DOCUMENT_UPDATE',
  kind: 'TEST',
  attempt: 1,
  success: true,
  error: null,
  durationMs: 12,
  nextRetryAt: null,
  createdAt: '2024-05-01T12:00:00.000Z',
  requestMethod: 'POST',
  requestUrl: 'https://example.com/hook',
  requestHeaders: [{ name: 'webhook-id', value: 'e1' }],
  requestBody: '{}',
  responseStatusCode: 204,
  responseHeaders: [],
  responseBody: '',
};

describe('CmsClient requests', () => {
  // [method, call, operation, variables as sent (undefined ones left out), root field]
  const table: [string, (c: CmsClient) => Promise<unknown>, OperationName, Record<string, unknown>, string][] = [
    ['document', (c) => c.document('d1'), 'Document', { id: 'd1' }, 'document'],
    ['blueprint', (c) => c.blueprint('b1'), 'Blueprint', { id: 'b1' }, 'blueprint'],
    ['documents', (c) => c.documents('p1'), 'Documents', { projectId: 'p1' }, 'documents'],
    [
      'documents with options',
      (c) => c.documents('p1', { blueprintId: 'b1', first: 10, after: 'cur' }),
      'Documents',
      { projectId: 'p1', blueprintId: 'b1', first: 10, after: 'cur' },
      'documents',
    ],
    ['me', (c) => c.me(), 'Me', {}, 'me'],
    ['createUser', (c) => c.createUser({ email: 'a@b.c' }), 'CreateUser', { input: { email: 'a@b.c' } }, 'createUser'],
    ['createApiToken', (c) => c.createApiToken('ci', 'u1'), 'CreateApiToken', { userId: 'u1', name: 'ci' }, 'createApiToken'],
    ['projects', (c) => c.projects(), 'Projects', {}, 'projects'],
    ['createProject', (c) => c.createProject({ name: 'Site' }), 'CreateProject', { input: { name: 'Site' } }, 'createProject'],
    [
      'assignProjectMember',
      (c) => c.assignProjectMember('p1', 'u1', 'EDITOR'),
      'AssignProjectMember',
      { projectId: 'p1', userId: 'u1', role: 'EDITOR' },
      'assignProjectMember',
    ],
    [
      'deassignProjectMember',
      (c) => c.deassignProjectMember('p1', 'u1'),
      'DeassignProjectMember',
      { projectId: 'p1', userId: 'u1' },
      'deassignProjectMember',
    ],
    ['projectMembers', (c) => c.projectMembers('p1'), 'ProjectMembers', { projectId: 'p1' }, 'projectMembers'],
    ['blueprints', (c) => c.blueprints('p1'), 'Blueprints', { projectId: 'p1' }, 'blueprints'],
    [
      'createBlueprint',
      (c) => c.createBlueprint('p1', { name: 'Post', fields: [{ name: 'body', type: 'richtext' }] }),
      'CreateBlueprint',
      { projectId: 'p1', input: { name: 'Post', fields: [{ name: 'body', type: 'richtext' }] } },
      'createBlueprint',
    ],
    ['updateBlueprint', (c) => c.updateBlueprint('b1', { name: 'Article' }), 'UpdateBlueprint', { id: 'b1', input: { name: 'Article' } }, 'updateBlueprint'],
    ['deleteBlueprint', (c) => c.deleteBlueprint('b1'), 'DeleteBlueprint', { id: 'b1' }, 'deleteBlueprint'],
    [
      'createDocument',
      (c) => c.createDocument('p1', { blueprintId: 'b1', title: 'Hello', fields: { body: 'x' } }),
      'CreateDocument',
      { projectId: 'p1', input: { blueprintId: 'b1', title: 'Hello', fields: { body: 'x' } } },
      'createDocument',
    ],
    [
      'updateDocument',
      (c) => c.updateDocument('d1', { fields: { body: null } }),
      'UpdateDocument',
      { id: 'd1', input: { fields: { body: null } } },
      'updateDocument',
    ],
    ['setDocumentStatus', (c) => c.setDocumentStatus('d1', 'PUBLISHED'), 'SetDocumentStatus', { id: 'd1', status: 'PUBLISHED' }, 'setDocumentStatus'],
    ['deleteDocument', (c) => c.deleteDocument('d1'), 'DeleteDocument', { id: 'd1' }, 'deleteDocument'],
    ['webhooks', (c) => c.webhooks('p1'), 'Webhooks', { projectId: 'p1' }, 'webhooks'],
    ['webhook', (c) => c.webhook('w1'), 'Webhook', { id: 'w1' }, 'webhook'],
    [
      'createWebhook',
      (c) =>
        c.createWebhook('p1', {
          name: 'Deploy',
          url: 'https://example.com/hook',
          triggers: ['DOCUMENT_UPDATE'],
          headers: [{ name: 'x-key', value: 's3cr3t', secret: true }],
        }),
      'CreateWebhook',
      {
        projectId: 'p1',
        input: {
          name: 'Deploy',
          url: 'https://example.com/hook',
          triggers: ['DOCUMENT_UPDATE'],
          headers: [{ name: 'x-key', value: 's3cr3t', secret: true }],
        },
      },
      'createWebhook',
    ],
    ['updateWebhook', (c) => c.updateWebhook('w1', { enabled: false }), 'UpdateWebhook', { id: 'w1', input: { enabled: false } }, 'updateWebhook'],
    ['deleteWebhook', (c) => c.deleteWebhook('w1'), 'DeleteWebhook', { id: 'w1' }, 'deleteWebhook'],
    ['rotateWebhookSecret', (c) => c.rotateWebhookSecret('w1'), 'RotateWebhookSecret', { id: 'w1' }, 'rotateWebhookSecret'],
    ['testWebhook', (c) => c.testWebhook('w1'), 'TestWebhook', { id: 'w1' }, 'testWebhook'],
    ['testWebhook with a trigger', (c) => c.testWebhook('w1', 'BLUEPRINT_CREATE'), 'TestWebhook', { id: 'w1', trigger: 'BLUEPRINT_CREATE' }, 'testWebhook'],
    ['webhookCalls', (c) => c.webhookCalls('p1'), 'WebhookCalls', { projectId: 'p1' }, 'webhookCalls'],
    [
      'webhookCalls with filter and page',
      (c) => c.webhookCalls('p1', { success: false, kind: 'EVENT' }, 20, 'cur'),
      'WebhookCalls',
      { projectId: 'p1', filter: { success: false, kind: 'EVENT' }, first: 20, after: 'cur' },
      'webhookCalls',
    ],
    ['webhookCall', (c) => c.webhookCall('c1'), 'WebhookCall', { id: 'c1' }, 'webhookCall'],
    ['replayWebhookCall', (c) => c.replayWebhookCall('c1'), 'ReplayWebhookCall', { id: 'c1' }, 'replayWebhookCall'],
  ];

  it.each(table)('%s sends its contract operation and returns the root field', async (_name, call, operation, variables, field) => {
    const result = { marker: `${field}-result` };
    answer({ [field]: result });

    await expect(call(client())).resolves.toEqual(result);

    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/graphql');
    expect(request.headers.authorization).toBe(`Bearer ${token}`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.body.query).toBe(OPERATIONS[operation]);
    expect(request.body.variables).toEqual(variables);
    expect(request.body.operationName).toBe(operation);
  });

  it('covers every query and mutation of the contract', () => {
    const called = new Set([...table.map(([, , operation]) => operation), 'WebhookCallsCount']);
    const httpOperations = (Object.keys(OPERATIONS) as OperationName[]).filter((name) => !OPERATIONS[name].startsWith('subscription'));
    expect([...called].sort()).toEqual(httpOperations.sort());
  });

  it('unwraps webhookCallsCount to a number', async () => {
    answer({ webhookCalls: { totalCount: 42 } });
    await expect(client().webhookCallsCount('p1', { webhookId: 'w1' })).resolves.toBe(42);
    expect(received[0].body.query).toBe(OPERATIONS.WebhookCallsCount);
    expect(received[0].body.variables).toEqual({ projectId: 'p1', filter: { webhookId: 'w1' } });
  });

  it('returns the data typed', async () => {
    const document: CmsDocument = {
      id: 'd1',
      projectId: 'p1',
      blueprintId: 'b1',
      statusId: 2,
      status: 'PUBLISHED',
      title: 'Hello',
      fields: { body: '<p>hi</p>', tags: ['a'] },
      createdAt: '2024-05-01T12:00:00.000Z',
      updatedAt: '2024-05-01T12:00:00.000Z',
      publishedAt: '2024-05-01T12:00:00.000Z',
      blueprint: { id: 'b1', name: 'Post', apiName: 'post' },
    };
    answer({ document });
    const fetched = await client().document('d1');
    expect(fetched).toEqual(document);
    expect(fetched.blueprint.apiName).toBe('post');

    const page: Connection<WebhookCall> = { edges: [{ cursor: 'c', node: webhookCall }], pageInfo: { hasNextPage: false, endCursor: 'c' } };
    answer({ webhookCalls: page });
    const calls = await client().webhookCalls('p1');
    expect(calls.edges[0].node.responseStatusCode).toBe(204);
  });

  it('uses the fetch it is given', async () => {
    answer({ me: { id: 'u1', email: 'a@b.c', name: null, isSuperAdmin: true } });
    const spy = jest.fn<ReturnType<typeof fetch>, Parameters<typeof fetch>>((input, init) => fetch(input, init));
    const me = await new CmsClient({ url, token, fetch: spy }).me();
    expect(me.isSuperAdmin).toBe(true);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0][0]).toBe(url);
  });

  it('forDelivery: every request names the delivery it handles; the original client does not', async () => {
    answer({ me: { id: 'u1', email: 'a@b.c', name: null, isSuperAdmin: true } });
    const cms = new CmsClient({ url, token });
    const payload = { event_id: 'e-42', webhook: { trigger: 'document_update' as const, webhook_id: 'w-7' } };
    await cms.forDelivery(payload).me();
    await cms.forDelivery({ eventId: 'e-43' }).me();
    await cms.me();
    const sent = received.slice(-3).map((r) => [r.headers['webhook-id'], r.headers['webhook-origin'], r.headers.authorization]);
    expect(sent).toEqual([
      ['e-42', 'w-7', `Bearer ${token}`],
      ['e-43', undefined, `Bearer ${token}`],
      [undefined, undefined, `Bearer ${token}`],
    ]);
  });

  it('refuses to start without a url or a token', () => {
    expect(() => new CmsClient({ url: '', token })).toThrow(TypeError);
    expect(() => new CmsClient({ url, token: '' })).toThrow(TypeError);
  });
});

describe('CmsClient errors', () => {
  async function failure(run: Promise<unknown>): Promise<CmsApiError> {
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CmsApiError);
    const apiError = error as CmsApiError;
    expect(apiError.message).not.toContain(token);
    return apiError;
  }

  it('throws the first GraphQL error with its code, message and path', async () => {
    reply = {
      body: JSON.stringify({
        data: null,
        errors: [
          { message: 'Document not found', path: ['document'], extensions: { code: 'NOT_FOUND' } },
          { message: 'second', extensions: { code: 'FORBIDDEN' } },
        ],
      }),
    };
    const error = await failure(client().document('missing'));
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'CmsApiError', code: 'NOT_FOUND', message: 'Document not found', path: ['document'], status: 200 });
    expect(error.errors).toHaveLength(2);
  });

  it('reads GraphQL errors sent with a 4xx status', async () => {
    reply = {
      status: 400,
      contentType: 'application/graphql-response+json',
      body: JSON.stringify({ errors: [{ message: 'input.url: must be an http(s) URL', extensions: { code: 'BAD_USER_INPUT' } }] }),
    };
    const error = await failure(client().createWebhook('p1', { name: 'x', url: 'ftp://x', triggers: ['DOCUMENT_CREATE'] }));
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', status: 400, path: undefined });
  });

  it('falls back to INTERNAL_SERVER_ERROR for an error without a code', async () => {
    reply = { body: JSON.stringify({ errors: [{ message: 'boom' }] }) };
    expect(await failure(client().me())).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', message: 'boom' });
  });

  it('turns an HTTP failure into NETWORK_ERROR', async () => {
    reply = { status: 502, contentType: 'text/html', body: '<h1>Bad gateway</h1>' };
    expect(await failure(client().me())).toMatchObject({ code: 'NETWORK_ERROR', status: 502 });
  });

  it('turns a 200 that is not JSON into NETWORK_ERROR', async () => {
    reply = { contentType: 'text/plain', body: 'hello' };
    expect(await failure(client().me())).toMatchObject({ code: 'NETWORK_ERROR', status: 200 });
  });

  it('turns a 200 without data or errors into NETWORK_ERROR', async () => {
    reply = { body: '{}' };
    expect(await failure(client().me())).toMatchObject({ code: 'NETWORK_ERROR' });
  });

  it('turns a refused connection into NETWORK_ERROR', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const error = await failure(new CmsClient({ url: `http://127.0.0.1:${port}/graphql`, token }).me());
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', status: undefined });
    expect(error.message).toContain('ECONNREFUSED');
  });
});
