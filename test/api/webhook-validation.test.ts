import crypto from 'node:crypto';
import { OPERATIONS, OperationName } from '../../sdk/operations';
import { codeOf, GqlResult, startTestApi, TestApi } from '../support/api';

/**
 * Webhook input validation through the contract operations: every rule broken once, each
 * answered with BAD_USER_INPUT naming the field and the rule, and nothing stored is lost.
 */

const SECRET = 'sk_live_9f8e7d6c5b4a3gat'; // long enough to be masked as ••••3gat
const OTHER_SECRET = 'tok_other_value_0123xyzw';

let api: TestApi;
let admin: string;
let projectId: string;
let otherProjectId: string;
let blueprintId: string;
let otherBlueprintId: string;

beforeAll(async () => {
  api = await startTestApi({ ROLE: 'api' }); // deliveries are not the subject here
  admin = api.adminToken;
  projectId = (await api.op(admin, 'CreateProject', { input: { name: 'Main' } })).data.createProject.id;
  otherProjectId = (await api.op(admin, 'CreateProject', { input: { name: 'Other' } })).data.createProject.id;
  blueprintId = (await api.op(admin, 'CreateBlueprint', { projectId, input: { name: 'Post' } })).data.createBlueprint.id;
  otherBlueprintId = (await api.op(admin, 'CreateBlueprint', { projectId: otherProjectId, input: { name: 'Post' } })).data.createBlueprint.id;
});

afterAll(async () => {
  await api.close();
});

/** The response exactly as it came over the wire, for scanning for leaked secrets. */
async function rawOp(token: string, name: OperationName, variables: Record<string, unknown>): Promise<{ text: string; body: GqlResult }> {
  const res = await fetch(api.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: OPERATIONS[name], variables, operationName: name }),
  });
  const text = await res.text();
  return { text, body: JSON.parse(text) as GqlResult };
}

function validInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'Hook', url: 'http://127.0.0.1:9/hook', triggers: ['DOCUMENT_CREATE'], ...overrides };
}

function create(input: Record<string, unknown>, project = projectId): Promise<GqlResult> {
  return api.op(admin, 'CreateWebhook', { projectId: project, input });
}

function update(id: string, input: Record<string, unknown>): Promise<GqlResult> {
  return api.op(admin, 'UpdateWebhook', { id, input });
}

async function createOk(overrides: Record<string, unknown> = {}): Promise<any> {
  const result = await create(validInput(overrides));
  expect(result.errors).toBeUndefined();
  return result.data.createWebhook;
}

/** BAD_USER_INPUT whose message is "<field>: <rule>" (and extensions.field names the field). */
function expectBadInput(result: GqlResult, field: string, rule: RegExp): void {
  expect(codeOf(result)).toBe('BAD_USER_INPUT');
  const error = result.errors![0];
  expect(error.message.startsWith(`${field}: `)).toBe(true);
  expect(error.message).toMatch(rule);
  expect(error.extensions?.field).toBe(field);
}

async function storedRow(id: string): Promise<Record<string, unknown>> {
  const rows = await api.app.dataSource.query('SELECT * FROM webhook WHERE id = $1', [id]);
  expect(rows).toHaveLength(1);
  return rows[0];
}

const headers = (n: number, prefix = 'X-H') => Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i}`, value: `v${i}` }));
const urlOfLength = (n: number) => {
  const base = 'http://127.0.0.1:9/';
  return base + 'a'.repeat(n - base.length);
};

/** [label, input fields that break the rule, field named, rule]. Applied to create and update alike. */
type Case = [string, () => Record<string, unknown>, string, RegExp];
const RULES: Case[] = [
  ['url of 2049 characters', () => ({ url: urlOfLength(2049) }), 'input.url', /at most 2048 characters/],
  ['ftp: url', () => ({ url: 'ftp://example.test/file' }), 'input.url', /http or https/],
  ['relative url', () => ({ url: '/hooks/in' }), 'input.url', /absolute http:\/\/ or https:\/\/ URL/],
  ['url without scheme', () => ({ url: 'example.test/hook' }), 'input.url', /absolute/],
  ['url without host', () => ({ url: 'https://' }), 'input.url', /absolute|host/],
  ['url with credentials', () => ({ url: 'https://user:pa55@example.test/hook' }), 'input.url', /credentials/],
  ['empty name', () => ({ name: '' }), 'input.name', /1 to 200 characters/],
  ['whitespace-only name', () => ({ name: '   \t ' }), 'input.name', /1 to 200 characters/],
  ['name of 201 characters', () => ({ name: 'n'.repeat(201) }), 'input.name', /1 to 200 characters/],
  ['description of 2001 characters', () => ({ description: 'd'.repeat(2001) }), 'input.description', /at most 2000 characters/],
  ['no trigger', () => ({ triggers: [] }), 'input.triggers', /at least one trigger/],
  ['a duplicate trigger', () => ({ triggers: ['DOCUMENT_CREATE', 'DOCUMENT_CREATE'] }), 'input.triggers[1]', /listed twice/],
  ['51 headers', () => ({ headers: headers(51) }), 'input.headers', /at most 50 headers/],
  ['a space in a header name', () => ({ headers: [{ name: 'X-Ok', value: 'a' }, { name: 'X Bad', value: 'b' }] }), 'input.headers[1].name', /RFC 9110 token/],
  ['a colon in a header name', () => ({ headers: [{ name: 'X-Bad:', value: 'b' }] }), 'input.headers[0].name', /RFC 9110 token/],
  ['a non-ASCII header name', () => ({ headers: [{ name: 'X-Ñame', value: 'b' }] }), 'input.headers[0].name', /RFC 9110 token/],
  ['a header name of 257 characters', () => ({ headers: [{ name: 'x'.repeat(257), value: 'b' }] }), 'input.headers[0].name', /at most 256 characters/],
  ['a header value of 4097 characters', () => ({ headers: [{ name: 'X-A', value: 'v'.repeat(4097) }] }), 'input.headers[0].value', /at most 4096 characters/],
  ['CR in a header value', () => ({ headers: [{ name: 'X-A', value: 'a\rb' }] }), 'input.headers[0].value', /^input\.headers\[0\]\.value: must be visible ASCII characters, spaces and tabs$/],
  ['LF in a header value', () => ({ headers: [{ name: 'X-A', value: 'a\nX-Injected: 1' }] }), 'input.headers[0].value', /visible ASCII characters, spaces and tabs/],
  ['\\x01 in a header value', () => ({ headers: [{ name: 'X-A', value: 'a\x01' }] }), 'input.headers[0].value', /visible ASCII characters, spaces and tabs/],
  ['DEL in a header value', () => ({ headers: [{ name: 'X-A', value: '\x7f' }] }), 'input.headers[0].value', /visible ASCII characters, spaces and tabs/],
  ['a non-Latin-1 header value', () => ({ headers: [{ name: 'X-A', value: 'Ω' }] }), 'input.headers[0].value', /visible ASCII characters, spaces and tabs/],
  ['a header value ending in a space', () => ({ headers: [{ name: 'X-A', value: 'v ' }] }), 'input.headers[0].value', /must not start or end with a space or tab/],
  ['NUL in a header value', () => ({ headers: [{ name: 'X-A', value: 'a\u0000b' }] }), 'input.headers[0].value', /must not contain U\+0000/],
  ...[
    'webhook-id',
    'webhook-timestamp',
    'webhook-signature',
    'user-agent',
    'content-type',
    'host',
    'content-length',
    'transfer-encoding',
    'connection',
    'Content-Length',
    'WEBHOOK-SIGNATURE',
    'User-Agent',
  ].map((name): Case => [
    `the reserved header name ${name}`,
    () => ({ headers: [{ name: 'X-Fine', value: 'a' }, { name, value: 'x' }] }),
    'input.headers[1].name',
    /set by the webhook sender and cannot be overridden/,
  ]),
  ['duplicate header names (case-insensitive)', () => ({ headers: [{ name: 'X-Key', value: 'a' }, { name: 'x-KEY', value: 'b' }] }), 'input.headers[1].name', /duplicates .*case-insensitive/],
  ['a blueprint of another project', () => ({ blueprintIds: [otherBlueprintId] }), 'input.blueprintIds[0]', /blueprint of this project/],
  ['a random uuid as blueprint', () => ({ blueprintIds: [blueprintId, crypto.randomUUID()] }), 'input.blueprintIds[1]', /blueprint of this project/],
  ['a non-uuid blueprint id', () => ({ blueprintIds: ['not-a-uuid'] }), 'input.blueprintIds[0]', /must be a UUID/],
  ['an empty blueprint list', () => ({ blueprintIds: [] }), 'input.blueprintIds', /at least one blueprint, or be null/],
];

describe('CreateWebhook rejects', () => {
  test.each(RULES)('%s', async (_label, input, field, rule) => {
    const before = Number((await api.app.dataSource.query('SELECT count(*) AS n FROM webhook'))[0].n);
    expectBadInput(await create(validInput(input())), field, rule);
    const after = Number((await api.app.dataSource.query('SELECT count(*) AS n FROM webhook'))[0].n);
    expect(after).toBe(before);
  });

  test('a header without value', async () => {
    expectBadInput(await create(validInput({ headers: [{ name: 'X-Key' }] })), 'input.headers[0].value', /is required/);
  });
});

describe('CreateWebhook accepts the boundaries', () => {
  test.each<[string, () => Record<string, unknown>]>([
    ['a url of exactly 2048 characters', () => ({ url: urlOfLength(2048) })],
    ['a name of 200 characters', () => ({ name: 'n'.repeat(200) })],
    ['a description of 2000 characters', () => ({ description: 'd'.repeat(2000) })],
    ['50 headers', () => ({ headers: headers(50) })],
    ['a header name of 256 characters and a value of 4096', () => ({ headers: [{ name: 'x'.repeat(256), value: 'v'.repeat(4096) }] })],
    ['http with a port and a query', () => ({ url: 'http://127.0.0.1:8080/in?x=1' })],
    ['blueprints of the project', () => ({ blueprintIds: [blueprintId] })],
  ])('%s', async (_label, input) => {
    const overrides = input();
    const webhook = await createOk(overrides);
    const stored = await storedRow(webhook.id);
    if (overrides.url) expect(stored.url).toBe(overrides.url);
    if (overrides.name) expect(webhook.name).toBe(overrides.name);
    if (overrides.description) expect(webhook.description).toBe(overrides.description);
    if (overrides.headers) expect(webhook.headers).toHaveLength((overrides.headers as unknown[]).length);
    if (overrides.blueprintIds) expect(webhook.blueprintIds).toEqual(overrides.blueprintIds);
  });

  test('defaults: POST, enabled, no blueprint filter; the name is trimmed', async () => {
    const webhook = await createOk({ name: '  Spaced  ' });
    expect(webhook).toMatchObject({ name: 'Spaced', method: 'POST', enabled: true, blueprintIds: null, headers: [], disabledReason: null });
  });
});

describe('UpdateWebhook rejects, and nothing already stored is lost', () => {
  let hookId: string;

  beforeAll(async () => {
    hookId = (
      await createOk({
        name: 'Stored',
        description: 'kept',
        method: 'PUT',
        url: 'http://127.0.0.1:9/stored',
        triggers: ['DOCUMENT_CREATE', 'BLUEPRINT_DELETE'],
        headers: [
          { name: 'X-Plain', value: 'plain-value' },
          { name: 'X-Token', value: SECRET, secret: true },
        ],
        blueprintIds: [blueprintId],
      })
    ).id;
  });

  async function snapshot() {
    const read = await api.op(admin, 'Webhook', { id: hookId });
    expect(read.errors).toBeUndefined();
    return { api: read.data.webhook, row: await storedRow(hookId) };
  }

  test.each(RULES)('%s', async (_label, input, field, rule) => {
    const before = await snapshot();
    expectBadInput(await update(hookId, input()), field, rule);
    expect(await snapshot()).toEqual(before);
  });

  test('a new header without value (a stored one may omit it)', async () => {
    const before = await snapshot();
    const result = await update(hookId, { headers: [{ name: 'X-Token', secret: true }, { name: 'X-New' }] });
    expectBadInput(result, 'input.headers[1].value', /required for a header that is not stored yet/);
    expect(await snapshot()).toEqual(before);
  });

  test('an explicit null url, name or triggers is not a way to clear them', async () => {
    const before = await snapshot();
    const result = await update(hookId, { name: null, url: null, triggers: null, method: null, enabled: null });
    expect(result.errors).toBeUndefined();
    const after = await snapshot();
    expect(after.api).toMatchObject({ name: 'Stored', url: 'http://127.0.0.1:9/stored', method: 'PUT', triggers: ['DOCUMENT_CREATE', 'BLUEPRINT_DELETE'], enabled: true });
    expect(after.row.headers).toEqual(before.row.headers);
  });

  test('a valid partial update changes only what it names', async () => {
    const before = await snapshot();
    const result = await update(hookId, { description: 'changed' });
    expect(result.errors).toBeUndefined();
    const after = await snapshot();
    expect(after.api).toEqual({ ...before.api, description: 'changed', updatedAt: after.api.updatedAt });
    expect(after.row.headers).toEqual(before.row.headers);
  });
});

describe('enum values in variables', () => {
  test.each<[string, OperationName, () => Record<string, unknown>, RegExp]>([
    ['method TRACE on create', 'CreateWebhook', () => ({ projectId, input: validInput({ method: 'TRACE' }) }), /TRACE.*HttpMethod|HttpMethod.*TRACE/s],
    ['an unknown trigger on create', 'CreateWebhook', () => ({ projectId, input: validInput({ triggers: ['DOCUMENT_EXPLODE'] }) }), /DOCUMENT_EXPLODE.*WebhookTrigger|WebhookTrigger.*DOCUMENT_EXPLODE/s],
    ['a lower-case trigger on create', 'CreateWebhook', () => ({ projectId, input: validInput({ triggers: ['document_create'] }) }), /document_create/],
    ['method TRACE on update', 'UpdateWebhook', () => ({ id: crypto.randomUUID(), input: { method: 'TRACE' } }), /TRACE/],
  ])('%s is BAD_USER_INPUT naming the value, never INTERNAL_SERVER_ERROR', async (_label, op, vars, rule) => {
    const result = await api.op(admin, op, vars());
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0].message).toMatch(rule);
    expect(result.errors![0].message).toMatch(/input/);
    expect(result.status).toBe(400);
  });
});

describe('ids that are not UUIDs are BAD_USER_INPUT, not 500', () => {
  const someId = () => crypto.randomUUID();

  type IdCase = [OperationName, () => Record<string, unknown>, string];
  const cases: IdCase[] = [
    ['Webhook', () => ({ id: 'nope' }), 'id'],
    ['UpdateWebhook', () => ({ id: 'nope', input: { name: 'x' } }), 'id'],
    ['DeleteWebhook', () => ({ id: 'nope' }), 'id'],
    ['RotateWebhookSecret', () => ({ id: 'nope' }), 'id'],
    ['Webhooks', () => ({ projectId: 'nope' }), 'projectId'],
    ['CreateWebhook', () => ({ projectId: 'nope', input: validInput() }), 'projectId'],
    ['Document', () => ({ id: 'nope' }), 'id'],
    ['UpdateDocument', () => ({ id: 'nope', input: { title: 'x' } }), 'id'],
    ['SetDocumentStatus', () => ({ id: 'nope', status: 'PUBLISHED' }), 'id'],
    ['DeleteDocument', () => ({ id: 'nope' }), 'id'],
    ['Documents', () => ({ projectId: 'nope' }), 'projectId'],
    ['Documents', () => ({ projectId, blueprintId: 'nope' }), 'blueprintId'],
    ['CreateDocument', () => ({ projectId: 'nope', input: { blueprintId: someId() } }), 'projectId'],
    ['CreateDocument', () => ({ projectId, input: { blueprintId: 'nope' } }), 'input.blueprintId'],
    ['Blueprint', () => ({ id: 'nope' }), 'id'],
    ['Blueprints', () => ({ projectId: 'nope' }), 'projectId'],
    ['CreateBlueprint', () => ({ projectId: 'nope', input: { name: 'x' } }), 'projectId'],
    ['UpdateBlueprint', () => ({ id: 'nope', input: { name: 'x' } }), 'id'],
    ['DeleteBlueprint', () => ({ id: 'nope' }), 'id'],
    ['ProjectMembers', () => ({ projectId: 'nope' }), 'projectId'],
    ['AssignProjectMember', () => ({ projectId: 'nope', userId: someId(), role: 'VIEWER' }), 'projectId'],
    ['AssignProjectMember', () => ({ projectId, userId: 'nope', role: 'VIEWER' }), 'userId'],
    ['DeassignProjectMember', () => ({ projectId: 'nope', userId: someId() }), 'projectId'],
    ['DeassignProjectMember', () => ({ projectId, userId: 'nope' }), 'userId'],
    ['CreateApiToken', () => ({ userId: 'nope', name: 'x' }), 'userId'],
    ['TestWebhook', () => ({ id: 'nope' }), 'id'],
    ['ReplayWebhookCall', () => ({ id: 'nope' }), 'id'],
    ['WebhookCall', () => ({ id: 'nope' }), 'id'],
    ['WebhookCalls', () => ({ projectId: 'nope' }), 'projectId'],
    ['WebhookCallsCount', () => ({ projectId: 'nope' }), 'projectId'],
    ['WebhookCalls', () => ({ projectId, filter: { webhookId: 'nope' } }), 'webhookId'],
    ['WebhookCalls', () => ({ projectId, filter: { eventId: 'nope' } }), 'eventId'],
  ];

  for (const [op, vars, field] of cases) {
    test(`${op} with a bad ${field}`, async () => {
      const seen: Array<{ bad: string; code: string; namesField: boolean }> = [];
      for (const bad of ['nope', '', '123', "x' OR '1'='1", `${crypto.randomUUID()}0`]) {
        const variables = JSON.parse(JSON.stringify(vars()).replace(/"nope"/g, JSON.stringify(bad)));
        const result = await api.op(admin, op, variables);
        const message = result.errors?.[0]?.message ?? '';
        seen.push({ bad, code: codeOf(result), namesField: message.includes(field) && /UUID/.test(message) });
      }
      // All values at once, so a failure lists every value that slipped through.
      expect(seen).toEqual(seen.map(({ bad }) => ({ bad, code: 'BAD_USER_INPUT', namesField: true })));
    });
  }
});

describe('secret headers', () => {
  const masked = `••••${SECRET.slice(-4)}`;
  let hookId: string;
  const texts: string[] = [];

  async function recorded(name: OperationName, variables: Record<string, unknown>): Promise<GqlResult> {
    const { text, body } = await rawOp(admin, name, variables);
    texts.push(text);
    return body;
  }

  async function dbHeaders(): Promise<Array<{ name: string; value: string; secret: boolean }>> {
    return (await storedRow(hookId)).headers as Array<{ name: string; value: string; secret: boolean }>;
  }

  beforeAll(async () => {
    const created = await recorded('CreateWebhook', {
      projectId,
      input: validInput({
        name: 'Secretive',
        headers: [
          { name: 'X-Plain', value: 'plain-value' },
          { name: 'X-Token', value: SECRET, secret: true },
        ],
      }),
    });
    expect(created.errors).toBeUndefined();
    hookId = created.data.createWebhook.id;
  });

  test('CreateWebhook masks it as •••• + last 4, plain headers are shown', async () => {
    const read = await recorded('Webhook', { id: hookId });
    expect(read.data.webhook.headers).toEqual([
      { name: 'X-Plain', value: 'plain-value', secret: false },
      { name: 'X-Token', value: masked, secret: true },
    ]);
    expect(await dbHeaders()).toEqual([
      { name: 'X-Plain', value: 'plain-value', secret: false },
      { name: 'X-Token', value: SECRET, secret: true },
    ]);
  });

  test('Webhooks masks it', async () => {
    const list = await recorded('Webhooks', { projectId });
    const mine = list.data.webhooks.find((w: { id: string }) => w.id === hookId);
    expect(mine.headers).toContainEqual({ name: 'X-Token', value: masked, secret: true });
  });

  test('UpdateWebhook re-sending the list with the secret value omitted keeps the stored value', async () => {
    const result = await recorded('UpdateWebhook', {
      id: hookId,
      input: { headers: [{ name: 'X-Token', secret: true }, { name: 'X-Plain', value: 'plain-2' }] },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data.updateWebhook.headers).toEqual([
      { name: 'X-Token', value: masked, secret: true },
      { name: 'X-Plain', value: 'plain-2', secret: false },
    ]);
    expect(await dbHeaders()).toEqual([
      { name: 'X-Token', value: SECRET, secret: true },
      { name: 'X-Plain', value: 'plain-2', secret: false },
    ]);
  });

  test('UpdateWebhook re-sending only the name of a secret header keeps it stored and secret (masked)', async () => {
    // A client that echoes back { name } of each header it does not change: the value is
    // omitted, so the stored one must be kept, and with it its secrecy.
    const result = await recorded('UpdateWebhook', { id: hookId, input: { headers: [{ name: 'X-Token' }, { name: 'X-Plain' }] } });
    expect(result.errors).toBeUndefined();
    expect(result.data.updateWebhook.headers).toEqual([
      { name: 'X-Token', value: masked, secret: true },
      { name: 'X-Plain', value: 'plain-2', secret: false },
    ]);
    expect(await dbHeaders()).toEqual([
      { name: 'X-Token', value: SECRET, secret: true },
      { name: 'X-Plain', value: 'plain-2', secret: false },
    ]);
  });

  test('a rejected UpdateWebhook does not echo the secret and keeps it', async () => {
    // Restore a known state first (in case the previous test found a bug and stored it differently).
    await api.app.dataSource.query('UPDATE webhook SET headers = $2 WHERE id = $1', [
      hookId,
      JSON.stringify([{ name: 'X-Token', value: SECRET, secret: true }]),
    ]);
    const result = await recorded('UpdateWebhook', {
      id: hookId,
      input: { headers: [{ name: 'X-Token', secret: true }, { name: 'x-token', value: OTHER_SECRET, secret: true }] },
    });
    expectBadInput(result, 'input.headers[1].name', /duplicates/);
    expect(await dbHeaders()).toEqual([{ name: 'X-Token', value: SECRET, secret: true }]);
  });

  test('replacing the secret value stores the new one, still masked', async () => {
    const result = await recorded('UpdateWebhook', { id: hookId, input: { headers: [{ name: 'X-Token', value: OTHER_SECRET, secret: true }] } });
    expect(result.data.updateWebhook.headers).toEqual([{ name: 'X-Token', value: `••••${OTHER_SECRET.slice(-4)}`, secret: true }]);
    expect(await dbHeaders()).toEqual([{ name: 'X-Token', value: OTHER_SECRET, secret: true }]);
    await recorded('Webhook', { id: hookId });
    await recorded('Webhooks', { projectId });
    // Back to the first secret for the scan in afterAll.
    await api.app.dataSource.query('UPDATE webhook SET headers = $2 WHERE id = $1', [
      hookId,
      JSON.stringify([{ name: 'X-Token', value: SECRET, secret: true }]),
    ]);
  });

  test('a short secret is masked completely', async () => {
    const created = await create(validInput({ headers: [{ name: 'X-Pin', value: '1234', secret: true }] }));
    expect(created.data.createWebhook.headers).toEqual([{ name: 'X-Pin', value: '••••••••', secret: true }]);
  });

  test('the secret value never appears in any response body above, error bodies included', () => {
    expect(texts.length).toBeGreaterThan(5);
    const leaks = texts.filter((text) => text.includes(SECRET) || text.includes(OTHER_SECRET) || text.includes(SECRET.slice(0, -4)));
    expect(leaks).toEqual([]);
  });
});

describe('signing secret', () => {
  function expectStandardSecret(secret: string): Buffer {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    expect(key.toString('base64')).toBe(secret.slice('whsec_'.length)); // strict base64, nothing dropped
    expect(key.length).toBeGreaterThanOrEqual(24);
    expect(key.length).toBeLessThanOrEqual(64);
    return key;
  }

  test('whsec_ + base64 of 24–64 bytes; each webhook has its own', async () => {
    const a = await createOk();
    const b = await createOk();
    expectStandardSecret(a.signingSecret);
    expectStandardSecret(b.signingSecret);
    expect(a.signingSecret).not.toBe(b.signingSecret);
  });

  test('RotateWebhookSecret returns a different one, which Webhook then shows', async () => {
    const hook = await createOk();
    const rotated = await api.op(admin, 'RotateWebhookSecret', { id: hook.id });
    expect(rotated.errors).toBeUndefined();
    expect(rotated.data.rotateWebhookSecret.id).toBe(hook.id);
    expectStandardSecret(rotated.data.rotateWebhookSecret.signingSecret);
    expect(rotated.data.rotateWebhookSecret.signingSecret).not.toBe(hook.signingSecret);
    const read = await api.op(admin, 'Webhook', { id: hook.id });
    expect(read.data.webhook.signingSecret).toBe(rotated.data.rotateWebhookSecret.signingSecret);
    const row = await storedRow(hook.id);
    expect(row.previous_signing_secret).toBe(hook.signingSecret);
  });
});

describe('concurrent updates', () => {
  test('two UpdateWebhook calls changing different fields at once both stick (no lost update)', async () => {
    const hook = await createOk({ name: 'race-0', description: 'race-0' });
    const lost: Array<{ round: number; name: string; description: string }> = [];
    for (let round = 1; round <= 15; round++) {
      const [a, b] = await Promise.all([update(hook.id, { name: `race-${round}` }), update(hook.id, { description: `race-${round}` })]);
      expect(a.errors).toBeUndefined();
      expect(b.errors).toBeUndefined();
      const row = await storedRow(hook.id);
      if (row.name !== `race-${round}` || row.description !== `race-${round}`) {
        lost.push({ round, name: row.name as string, description: row.description as string });
      }
    }
    expect(lost).toEqual([]);
  });

  test('a rotation racing an UpdateWebhook is not undone: the secret RotateWebhookSecret returned is the one stored', async () => {
    const hook = await createOk();
    const undone: Array<{ round: number; returned: string; stored: string }> = [];
    for (let round = 1; round <= 10; round++) {
      const [rotated, updated] = await Promise.all([
        api.op(admin, 'RotateWebhookSecret', { id: hook.id }),
        update(hook.id, { name: `rotating-${round}` }),
      ]);
      expect(rotated.errors).toBeUndefined();
      expect(updated.errors).toBeUndefined();
      const row = await storedRow(hook.id);
      const returned = rotated.data.rotateWebhookSecret.signingSecret as string;
      if (row.signing_secret !== returned) undone.push({ round, returned, stored: row.signing_secret as string });
    }
    expect(undone).toEqual([]);
  });
});
