import { OPERATIONS } from '../../sdk/operations';
import { MIN_STORABLE_TIMESTAMP_MS } from '../../src/common/timestamps';
import { codeOf, createUserWithToken, GqlResult, startTestApi, TestApi, wsClient } from '../support/api';

/**
 * The inputs that once answered INTERNAL_SERVER_ERROR, each named: text PostgreSQL cannot
 * store, deep or huge document fields, cursors that are not ours, persisted-query mistakes.
 * Each must be refused with a client code naming what is wrong, and store nothing.
 * (test/api/bad-input.property.test.ts tries every argument of the schema the same way.)
 */

let api: TestApi;
let admin: string;
let projectId: string;
let blueprintId: string;
let documentId: string;
let webhookId: string;

beforeAll(async () => {
  api = await startTestApi({ ROLE: 'api' });
  admin = api.adminToken;
  projectId = (await api.op(admin, 'CreateProject', { input: { name: 'Main' } })).data.createProject.id;
  const blueprint = await api.op(admin, 'CreateBlueprint', {
    projectId,
    input: { name: 'Post', fields: [{ name: 'body', type: 'string' }, { name: 'extra', type: 'string' }] },
  });
  blueprintId = blueprint.data.createBlueprint.id;
  documentId = (await api.op(admin, 'CreateDocument', { projectId, input: { blueprintId, title: 'T', fields: { body: 'b' } } })).data.createDocument.id;
  webhookId = (await api.op(admin, 'CreateWebhook', { projectId, input: { name: 'Hook', url: 'http://127.0.0.1:9/', triggers: ['DOCUMENT_CREATE'] } })).data
    .createWebhook.id;
});

afterAll(async () => {
  await api.close();
});

/** Every stored row, so a refusal can be shown to have changed nothing. */
async function everything(): Promise<unknown> {
  const tables = ['project', 'blueprint', 'document', 'webhook', 'app_user', 'api_token', 'domain_event', 'webhook_delivery'];
  const dump: Record<string, unknown> = {};
  for (const t of tables) dump[t] = await api.app.dataSource.query(`SELECT to_jsonb(x) - 'last_used_at' AS row FROM "${t}" x ORDER BY 1::text`);
  return dump;
}

function expectRefused(result: GqlResult, field: string, rule: string | RegExp): void {
  expect(result.errors).toHaveLength(1);
  expect(result.errors![0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field } });
  expect(result.errors![0].message.startsWith(`${field}: `)).toBe(true);
  expect(result.errors![0].message).toMatch(rule);
}

/** The raw body, for what a client library would not send (deep JSON, persisted-query extensions). */
async function post(body: string): Promise<{ status: number; json: GqlResult }> {
  const res = await fetch(api.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, body });
  return { status: res.status, json: (await res.json()) as GqlResult };
}

describe('text PostgreSQL cannot store', () => {
  const NUL = 'must not contain U+0000';
  const SURROGATE = 'must be valid Unicode (unpaired surrogate)';
  const cases: Array<[string, () => [string, Record<string, unknown>], string]> = [
    ['webhook name', () => ['CreateWebhook', { projectId, input: { name: 'a\u0000', url: 'http://127.0.0.1:9/', triggers: ['DOCUMENT_CREATE'] } }], 'input.name'],
    ['webhook description', () => ['UpdateWebhook', { id: webhookId, input: { description: 'x\u0000y' } }], 'input.description'],
    ['webhook header value', () => ['UpdateWebhook', { id: webhookId, input: { headers: [{ name: 'A', value: 'a' }, { name: 'B', value: 'b' }, { name: 'C', value: '\u0000' }] } }], 'input.headers[2].value'],
    ['document title', () => ['CreateDocument', { projectId, input: { blueprintId, title: 'T\u0000' } }], 'input.title'],
    ['document field value', () => ['UpdateDocument', { id: documentId, input: { fields: { body: ['ok', { deep: 'x\u0000' }] } } }], 'input.fields.body[1].deep'],
    ['project name', () => ['CreateProject', { input: { name: '\u0000' } }], 'input.name'],
    ['blueprint name', () => ['UpdateBlueprint', { id: blueprintId, input: { name: 'Post\u0000' } }], 'input.name'],
    ['user name', () => ['CreateUser', { input: { email: 'nul@example.com', name: 'N\u0000' } }], 'input.name'],
    ['email', () => ['CreateUser', { input: { email: 'nul\u0000@example.com' } }], 'input.email'],
    ['token name', () => ['CreateApiToken', { name: 'ci\u0000' }], 'name'],
  ];

  test.each(cases)('U+0000 in a %s is BAD_USER_INPUT naming the field; nothing is stored', async (_what, build, field) => {
    const [op, variables] = build();
    const before = await everything();
    expectRefused(await api.op(admin, op, variables), field, NUL);
    expect(await everything()).toEqual(before);
  });

  test('as a literal in the query too', async () => {
    const result = await api.gql(admin, 'mutation { createProject(input: {name: "a\\u0000b"}) { id } }');
    expectRefused(result, 'input.name', NUL);
  });

  test('an unpaired surrogate is refused, not stored as U+FFFD', async () => {
    expectRefused(await api.op(admin, 'CreateProject', { input: { name: 'a\udc00b' } }), 'input.name', SURROGATE);
    expectRefused(await api.op(admin, 'UpdateDocument', { id: documentId, input: { fields: { body: 'x\ud800' } } }), 'input.fields.body', SURROGATE);
    const projects = await api.app.dataSource.query(`SELECT 1 FROM project WHERE name LIKE '%' || chr(65533) || '%'`);
    expect(projects).toEqual([]);
  });

  test('a document field key is checked too, and named escaped', async () => {
    const result = await api.op(admin, 'UpdateDocument', { id: documentId, input: { fields: { body: { 'k\u0000': 1 } } } });
    expectRefused(result, 'input.fields.body["k\\u0000"]', `names a key that ${NUL}`);
  });

  test('a subscription argument over WebSocket is refused the same way', async () => {
    const { token } = await createUserWithToken(api, 'ws-admin@example.com', projectId, 'ADMIN');
    const client = wsClient(api, token);
    try {
      const stream = client.iterate({ query: OPERATIONS.WebhookCallLogged, variables: { projectId, webhookId: 'a\u0000' } });
      const first = await stream.next();
      expect(first.done).toBe(false);
      expect(first.value.errors?.[0]).toMatchObject({ message: `webhookId: ${NUL}`, extensions: { code: 'BAD_USER_INPUT', field: 'webhookId' } });
    } finally {
      await client.dispose();
    }
  });
});

describe('document fields: depth and size', () => {
  const deepJson = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  const update = (fieldsJson: string) =>
    `{"query":"mutation($id: ID!, $f: JSON) { updateDocument(id: $id, input: {fields: $f}) { id } }","variables":{"id":"${documentId}","f":${fieldsJson}}}`;

  test('nested 10,000 deep in a variable: BAD_USER_INPUT naming input.fields, not a stack overflow', async () => {
    const before = await everything();
    const { json } = await post(update(`{"body":${deepJson(10_000)}}`));
    expectRefused(json, 'input.fields', 'must not nest objects and arrays more than 32 deep');
    expect(await everything()).toEqual(before);
  });

  test('nested 10,000 deep as a literal: a coded client error (the parser refuses it)', async () => {
    const literal = '{a: '.repeat(10_000) + '1' + '}'.repeat(10_000);
    const { status, json } = await post(JSON.stringify({ query: `mutation { updateDocument(id: "${documentId}", input: {fields: {body: ${literal}}}) { id } }` }));
    expect(status).toBe(400);
    // The token limit (src/graphql/query-limits.ts) stops it before the parser recurses.
    expect(codeOf(json)).toMatch(/^(QUERY_TOO_COMPLEX|GRAPHQL_PARSE_FAILED|GRAPHQL_VALIDATION_FAILED|BAD_USER_INPUT)$/);
  });

  test('32 levels are accepted, 33 are not, as a literal or a variable', async () => {
    // The fields object is level 1, body's value level 2: 30 more make 32.
    expect(codeOf((await post(update(`{"body":${deepJson(31)}}`))).json)).toBe('OK');
    expectRefused((await post(update(`{"body":${deepJson(32)}}`))).json, 'input.fields', /more than 32 deep/);
    const literal = (depth: number) => '{a: '.repeat(depth) + '1' + '}'.repeat(depth);
    const send = (depth: number) => api.gql(admin, `mutation($id: ID!) { updateDocument(id: $id, input: {fields: {body: ${literal(depth)}}}) { id } }`, { id: documentId });
    expect(codeOf(await send(31))).toBe('OK');
    expectRefused(await send(32), 'input.fields', /more than 32 deep/);
  });

  test('more than 1 MiB is refused, for a new document and for the document an update would make', async () => {
    const big = 'x'.repeat(600_000);
    expectRefused(await api.op(admin, 'CreateDocument', { projectId, input: { blueprintId, fields: { body: big + big } } }), 'input.fields', '1 MiB');
    expect(codeOf(await api.op(admin, 'UpdateDocument', { id: documentId, input: { fields: { body: big } } }))).toBe('OK');
    const before = await everything();
    expectRefused(await api.op(admin, 'UpdateDocument', { id: documentId, input: { fields: { extra: big } } }), 'input.fields', '1 MiB');
    expect(await everything()).toEqual(before);
    expect(codeOf(await api.op(admin, 'UpdateDocument', { id: documentId, input: { fields: { body: 'small' } } }))).toBe('OK');
  });

  test('a blueprint field cannot be named __proto__: a document would lose its value on the way to the database', async () => {
    const result = await api.op(admin, 'UpdateBlueprint', { id: blueprintId, input: { fields: [{ name: 'body', type: 'string' }, { name: '__proto__', type: 'string' }] } });
    expectRefused(result, 'input.fields[1].name', 'must not be __proto__');
    const fields = JSON.parse('{"__proto__":"x"}') as Record<string, unknown>;
    expectRefused(await api.op(admin, 'UpdateDocument', { id: documentId, input: { fields } }), 'input.fields.__proto__', 'is not a field of blueprint');
  });
});

describe('cursors and dates', () => {
  const cursor = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
  const UUID = '00000000-0000-4000-8000-000000000000';
  const bad = [
    ['an id of 36 hex characters that is not a UUID', cursor(`2026-01-01T00:00:00.000Z|${'a'.repeat(36)}`)],
    ['an id of 36 dashes', cursor(`2026-01-01T00:00:00.000Z|${'-'.repeat(36)}`)],
    ['a date before PostgreSQL\'s range', cursor(`-271821-04-20T00:00:00.000Z|${UUID}`)],
  ];

  test.each(bad)('documents and webhookCalls refuse a cursor with %s', async (_what, after) => {
    const docs = await api.gql(admin, 'query($p: ID!, $a: String) { documents(projectId: $p, after: $a) { edges { cursor } } }', { p: projectId, a: after });
    expectRefused(docs, 'after', 'is not a cursor returned by this API');
    const calls = await api.op(admin, 'WebhookCalls', { projectId, after });
    expectRefused(calls, 'after', 'is not a cursor returned by this API');
  });

  test('a date-time PostgreSQL cannot store is BAD_USER_INPUT wherever a DateTime is taken', async () => {
    for (const since of ['+275760-09-13T00:00:00Z', '-271821-04-20T00:00:00Z']) {
      expect(codeOf(await api.op(admin, 'WebhookCalls', { projectId, filter: { since } }))).toBe('BAD_USER_INPUT');
      const recover = await api.gql(admin, 'mutation($id: ID!, $s: DateTime!) { recoverWebhook(id: $id, since: $s) }', { id: webhookId, s: since });
      expect(codeOf(recover)).toBe('BAD_USER_INPUT');
    }
    // The earliest four-digit year is fine: PostgreSQL stores it.
    expect(codeOf(await api.op(admin, 'WebhookCalls', { projectId, filter: { since: '0000-01-01T00:00:00Z', until: '9999-12-31T23:59:59Z' } }))).toBe('OK');
  });

  test('the earliest date let through is one PostgreSQL stores; a few years earlier it is not', async () => {
    const query = (date: Date) => api.app.dataSource.query('SELECT $1::timestamptz AS at', [date]);
    await expect(query(new Date(MIN_STORABLE_TIMESTAMP_MS))).resolves.toHaveLength(1);
    await expect(query(new Date(Date.UTC(-4715, 0, 1)))).rejects.toThrow(/out of range/);
  });
});

describe('persisted queries', () => {
  test.each([
    ['a hash that does not match the query', { version: 1, sha256Hash: 'bogus' }],
    ['an unknown version', { version: 2, sha256Hash: 'bogus' }],
    ['not an object', 'bogus'],
  ])('%s is BAD_REQUEST with HTTP 400, not an internal error', async (_what, persistedQuery) => {
    const { status, json } = await post(JSON.stringify({ query: '{ me { id } }', extensions: { persistedQuery } }));
    expect(status).toBe(400);
    expect(codeOf(json)).toBe('BAD_REQUEST');
  });

  test('an unknown hash without a query asks for the query', async () => {
    const { json } = await post(JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } }));
    expect(codeOf(json)).toBe('PERSISTED_QUERY_NOT_FOUND');
  });
});
