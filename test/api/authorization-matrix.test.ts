import crypto from 'node:crypto';
import { OperationTypeNode } from 'graphql';
import { codeOf, contractDocument, createUserWithToken, GqlResult, startTestApi, TestApi, wsClient } from '../support/api';
import { callRow, insertCalls } from '../support/fixtures';
import { Operation, readOperations } from '../support/operations';
import { createToken, TOKEN_OPERATIONS } from '../support/tokens';
import { waitUntil, within } from '../support/wait';

/**
 * The authorization matrix of contract/README.md "Roles and errors", generated from
 * contract/operations.graphql: every operation (queries, mutations and the subscription) ×
 * every kind of caller × the caller's own project and a foreign one (the caller is a member
 * of another project, not this one). The expected answer comes from NEEDS, one line per
 * operation; an operation of the contract with no line fails the first test. A refused call
 * must change nothing stored.
 */

type Member = 'VIEWER' | 'EDITOR' | 'ADMIN' | 'OWNER';
const RANK: Record<Member, number> = { VIEWER: 1, EDITOR: 2, ADMIN: 3, OWNER: 4 };
const CALLERS = ['no token', 'unknown token', 'outsider', 'VIEWER', 'EDITOR', 'ADMIN', 'OWNER', 'super-admin'] as const;
type Caller = (typeof CALLERS)[number];
type Code = 'OK' | 'UNAUTHENTICATED' | 'NOT_FOUND' | 'FORBIDDEN';

/**
 * What an operation needs. In a project: the least role (outside it, NOT_FOUND). On a user
 * (yourself, or another one, who is the "foreign" target): yourself, and what others get.
 */
type Need = Member | 'signed in' | 'super-admin' | { self: true; others: 'FORBIDDEN' | 'NOT_FOUND' };
const SELF_OR_SUPER_ADMIN = { self: true, others: 'FORBIDDEN' } as const;
const OWN_OR_SUPER_ADMIN_ELSE_NOT_FOUND = { self: true, others: 'NOT_FOUND' } as const;

// ---------------------------------------------------------------------------------------------
// The specification: VIEWER reads documents, blueprints and members; EDITOR writes documents;
// ADMIN writes blueprints and members and does everything with webhooks and their log.
// ---------------------------------------------------------------------------------------------
const NEEDS: Record<string, Need> = {
  Me: 'signed in',
  CreateUser: 'super-admin',
  CreateApiToken: SELF_OR_SUPER_ADMIN,
  ApiTokens: SELF_OR_SUPER_ADMIN,
  RevokeApiToken: OWN_OR_SUPER_ADMIN_ELSE_NOT_FOUND,
  CreateProject: 'signed in',
  Projects: 'signed in',
  ProjectMembers: 'VIEWER',
  AssignProjectMember: 'ADMIN',
  DeassignProjectMember: 'ADMIN',
  Blueprint: 'VIEWER',
  Blueprints: 'VIEWER',
  CreateBlueprint: 'ADMIN',
  UpdateBlueprint: 'ADMIN',
  DeleteBlueprint: 'ADMIN',
  Document: 'VIEWER',
  Documents: 'VIEWER',
  CreateDocument: 'EDITOR',
  UpdateDocument: 'EDITOR',
  SetDocumentStatus: 'EDITOR',
  DeleteDocument: 'EDITOR',
  Webhooks: 'ADMIN',
  Webhook: 'ADMIN',
  CreateWebhook: 'ADMIN',
  UpdateWebhook: 'ADMIN',
  DeleteWebhook: 'ADMIN',
  RotateWebhookSecret: 'ADMIN',
  TestWebhook: 'ADMIN',
  WebhookCalls: 'ADMIN',
  WebhookCallsCount: 'ADMIN',
  WebhookCall: 'ADMIN',
  ReplayWebhookCall: 'ADMIN',
  WebhookCallLogged: 'ADMIN',
};

function expected(need: Need, caller: Caller, scope: Scope): Code {
  if (caller === 'no token' || caller === 'unknown token') return 'UNAUTHENTICATED';
  if (caller === 'super-admin' || need === 'signed in') return 'OK';
  if (need === 'super-admin') return 'FORBIDDEN';
  if (typeof need === 'object') return scope === 'own' ? 'OK' : need.others;
  if (caller === 'outsider' || scope === 'foreign') return 'NOT_FOUND';
  return RANK[caller] >= RANK[need] ? 'OK' : 'FORBIDDEN';
}

// ---------------------------------------------------------------------------------------------
// What each operation is called with: the target project's fixtures (fresh ones where the
// operation changes or destroys what it is given), or the target user.
// ---------------------------------------------------------------------------------------------
interface Fixtures {
  projectId: string;
  blueprintId: string;
  documentId: string;
  webhookId: string;
  callId: string;
  fresh: { blueprint(): Promise<string>; document(): Promise<string>; webhook(): Promise<string>; member(role: Member): Promise<string> };
}
interface Target {
  fx: Fixtures;
  /** The user an operation on users acts on: the caller ('own') or someone else ('foreign'). */
  subject: { id: string };
  freshUser(): Promise<string>;
}
type Vars = Record<string, unknown>;

const unique = (prefix: string) => `${prefix}${crypto.randomBytes(4).toString('hex')}`;
const webhookInput = () => ({ name: unique('hook'), url: 'http://127.0.0.1:9/hook', triggers: ['DOCUMENT_CREATE'] });

const VARIABLES: Record<string, (t: Target) => Vars | Promise<Vars>> = {
  CreateUser: () => ({ input: { email: `${unique('u')}@matrix.test` } }),
  CreateApiToken: (t) => ({ userId: t.subject.id, name: 'matrix' }),
  ApiTokens: (t) => ({ userId: t.subject.id }),
  RevokeApiToken: async (t) => ({ id: (await createToken(api, t.subject.id)).id }),
  CreateProject: () => ({ input: { name: unique('Project ') } }),
  ProjectMembers: (t) => ({ projectId: t.fx.projectId }),
  AssignProjectMember: async (t) => ({ projectId: t.fx.projectId, userId: await t.freshUser(), role: 'EDITOR' }),
  DeassignProjectMember: async (t) => ({ projectId: t.fx.projectId, userId: await t.fx.fresh.member('VIEWER') }),
  Blueprint: (t) => ({ id: t.fx.blueprintId }),
  Blueprints: (t) => ({ projectId: t.fx.projectId }),
  CreateBlueprint: (t) => ({ projectId: t.fx.projectId, input: { name: 'Page', apiName: unique('page'), fields: [{ name: 'body', type: 'richtext' }] } }),
  UpdateBlueprint: async (t) => ({ id: await t.fx.fresh.blueprint(), input: { name: 'Renamed', fields: [{ name: 'summary', type: 'string' }] } }),
  DeleteBlueprint: async (t) => ({ id: await t.fx.fresh.blueprint() }),
  Document: (t) => ({ id: t.fx.documentId }),
  Documents: (t) => ({ projectId: t.fx.projectId, first: 10 }),
  CreateDocument: (t) => ({ projectId: t.fx.projectId, input: { blueprintId: t.fx.blueprintId, title: 'New', fields: { body: 'text' } } }),
  UpdateDocument: async (t) => ({ id: await t.fx.fresh.document(), input: { title: 'Edited', fields: { body: 'edited' } } }),
  SetDocumentStatus: async (t) => ({ id: await t.fx.fresh.document(), status: 'PUBLISHED' }),
  DeleteDocument: async (t) => ({ id: await t.fx.fresh.document() }),
  Webhooks: (t) => ({ projectId: t.fx.projectId }),
  Webhook: (t) => ({ id: t.fx.webhookId }),
  CreateWebhook: (t) => ({ projectId: t.fx.projectId, input: webhookInput() }),
  UpdateWebhook: async (t) => ({ id: await t.fx.fresh.webhook(), input: { name: 'Renamed', enabled: false } }),
  DeleteWebhook: async (t) => ({ id: await t.fx.fresh.webhook() }),
  RotateWebhookSecret: async (t) => ({ id: await t.fx.fresh.webhook() }),
  TestWebhook: (t) => ({ id: t.fx.webhookId }),
  WebhookCalls: (t) => ({ projectId: t.fx.projectId, first: 5 }),
  WebhookCallsCount: (t) => ({ projectId: t.fx.projectId }),
  WebhookCall: (t) => ({ id: t.fx.callId }),
  ReplayWebhookCall: (t) => ({ id: t.fx.callId }),
  WebhookCallLogged: (t) => ({ projectId: t.fx.projectId, webhookId: t.fx.webhookId }),
};

/** Further checks on some answers that are allowed. */
const THEN: Record<string, (data: any, caller: Caller) => void> = {
  Projects: (data, caller) => {
    const ids = (data.projects as Array<{ id: string }>).map((p) => p.id);
    expect(ids.includes(fixtures.own.projectId)).toBe(caller !== 'outsider');
    expect(ids.includes(fixtures.foreign.projectId)).toBe(caller === 'super-admin');
  },
  Webhook: (data) => expect(data.webhook.signingSecret).toMatch(/^whsec_/),
};

// The operations, read from the contract (plus the token operations it does not have yet).
const CONTRACT_OPERATIONS = readOperations(contractDocument());
const OPERATIONS = [
  ...CONTRACT_OPERATIONS,
  ...readOperations(Object.values(TOKEN_OPERATIONS).join('\n')).filter((op) => !CONTRACT_OPERATIONS.some((c) => c.name === op.name)),
];

type Scope = 'own' | 'foreign';
const scopesOf = (op: Operation): Scope[] => {
  const need = NEEDS[op.name];
  return need === undefined || need === 'signed in' || need === 'super-admin' ? ['own'] : ['own', 'foreign'];
};

// ---------------------------------------------------------------------------------------------

let api: TestApi;
let users: Record<Exclude<Caller, 'no token' | 'unknown token'> | 'bystander', { id: string; token: string }>;
let fixtures: Record<Scope, Fixtures>;

function must(result: GqlResult, what: string): any {
  if (result.errors) throw new Error(`${what} failed: ${JSON.stringify(result.errors)}`);
  return result.data;
}

async function projectFixtures(projectId: string): Promise<Fixtures> {
  const admin = api.adminToken;
  const blueprint = async () =>
    must(
      await api.op(admin, 'CreateBlueprint', { projectId, input: { name: 'Post', apiName: unique('post'), fields: [{ name: 'body', type: 'string' }] } }),
      'CreateBlueprint',
    ).createBlueprint.id as string;
  const blueprintId = await blueprint();
  const document = async () =>
    must(await api.op(admin, 'CreateDocument', { projectId, input: { blueprintId, title: 'Doc', fields: { body: 'x' } } }), 'CreateDocument')
      .createDocument.id as string;
  const webhook = async () => must(await api.op(admin, 'CreateWebhook', { projectId, input: webhookInput() }), 'CreateWebhook').createWebhook.id as string;
  const member = async (role: Member) => {
    const userId = await freshUser();
    must(await api.op(admin, 'AssignProjectMember', { projectId, userId, role }), 'AssignProjectMember');
    return userId;
  };
  const webhookId = await webhook();
  const callId = must(await api.op(admin, 'TestWebhook', { id: webhookId }), 'TestWebhook').testWebhook.id as string;
  return { projectId, blueprintId, documentId: await document(), webhookId, callId, fresh: { blueprint, document, webhook, member } };
}

async function freshUser(): Promise<string> {
  return must(await api.op(api.adminToken, 'CreateUser', { input: { email: `${unique('fresh')}@matrix.test` } }), 'CreateUser').createUser.id;
}

/** Everything stored, as one fingerprint per table (last_used_at aside: using a token is not changing anything). */
async function snapshot(): Promise<Record<string, string>> {
  const tables: Record<string, string> = {
    app_user: 'app_user',
    api_token: '(SELECT id, user_id, name, token_hash, created_at, revoked_at FROM api_token)',
    project: 'project',
    project_member: 'project_member',
    blueprint: 'blueprint',
    document: 'document',
    webhook: 'webhook',
    webhook_delivery: 'webhook_delivery',
    webhook_call: 'webhook_call',
    domain_event: 'domain_event',
  };
  const columns = Object.entries(tables).map(
    ([name, from]) => `(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM ${from} t) AS ${name}`,
  );
  const [row] = await api.app.dataSource.query(`SELECT ${columns.join(', ')}`);
  return row;
}

function tokenOf(caller: Caller): string | null {
  if (caller === 'no token') return null;
  if (caller === 'unknown token') return `cms_${crypto.randomBytes(32).toString('base64url')}`;
  return users[caller].token;
}

function target(caller: Caller, scope: Scope): Target {
  const me = caller === 'no token' || caller === 'unknown token' ? undefined : users[caller];
  return { fx: fixtures[scope], subject: scope === 'own' && me ? me : users.bystander, freshUser };
}

beforeAll(async () => {
  api = await startTestApi({ ROLE: 'api' }); // test sends go out inline; nothing else may write meanwhile
  const newProject = async (token: string, name: string) =>
    must(await api.op(token, 'CreateProject', { input: { name } }), 'CreateProject').createProject.id as string;
  // The OWNER creates the project and so owns it, as a real user would; so does the stranger, elsewhere.
  const owner = await createUserWithToken(api, 'owner@matrix.test');
  const own = await newProject(owner.token, 'Own');
  const stranger = await createUserWithToken(api, 'stranger@matrix.test');
  const foreign = await newProject(stranger.token, 'Foreign');
  const outsider = await createUserWithToken(api, 'outsider@matrix.test');
  await newProject(outsider.token, "The outsider's own");
  users = {
    OWNER: owner,
    ADMIN: await createUserWithToken(api, 'admin@matrix.test', own, 'ADMIN'),
    EDITOR: await createUserWithToken(api, 'editor@matrix.test', own, 'EDITOR'),
    VIEWER: await createUserWithToken(api, 'viewer@matrix.test', own, 'VIEWER'),
    outsider,
    bystander: await createUserWithToken(api, 'bystander@matrix.test'),
    'super-admin': { id: must(await api.op(api.adminToken, 'Me'), 'Me').me.id, token: api.adminToken },
  };
  fixtures = { own: await projectFixtures(own), foreign: await projectFixtures(foreign) };
});

afterAll(async () => {
  await api?.close();
});

test('every operation of the contract has a line in NEEDS and its variables, and nothing else does', () => {
  const names = OPERATIONS.map((op) => op.name).sort();
  expect(names.filter((name) => !(name in NEEDS))).toEqual([]);
  expect(Object.keys(NEEDS).filter((name) => !names.includes(name))).toEqual([]);
  expect(OPERATIONS.filter((op) => op.takesVariables && !(op.name in VARIABLES)).map((op) => op.name)).toEqual([]);
  expect(Object.keys(VARIABLES).filter((name) => !names.includes(name))).toEqual([]);
  expect(OPERATIONS.filter((op) => op.kind === OperationTypeNode.SUBSCRIPTION).map((op) => op.name)).toEqual(['WebhookCallLogged']);
});

/** The first message of the subscription: its error code, or OK once a call logged in the target project arrives. */
async function subscribeOnce(op: Operation, token: string | null, variables: Vars, fx: Fixtures, allowed: boolean): Promise<Code | string> {
  const client = wsClient(api, token);
  try {
    const stream = client.iterate<any>({ query: op.text, variables });
    const first = stream.next().then(
      (result) => (result.done ? 'completed' : result.value.errors ? result.value.errors[0]?.extensions?.code : result.value.data?.[op.rootField]?.id),
      (failure: { code?: number } | Array<{ extensions?: { code?: string } }>) =>
        Array.isArray(failure) ? failure[0]?.extensions?.code : failure.code === 4401 ? 'UNAUTHENTICATED' : `closed ${failure.code}`,
    );
    if (!allowed) return await within('the first message', first);
    await waitUntil('the subscription to start', () => api.app.services.webhookCallPubSub.subscriberCount() === 1);
    const row = callRow(fx.projectId, fx.webhookId);
    await insertCalls(api.app.dataSource, [row]);
    return (await within('the logged call', first)) === row.id ? 'OK' : 'a different call';
  } finally {
    await client.dispose();
    await waitUntil('the subscription to end', () => api.app.services.webhookCallPubSub.subscriberCount() === 0);
  }
}

const CASES = OPERATIONS.flatMap((op) =>
  scopesOf(op).flatMap((scope) =>
    CALLERS.map((caller) => {
      const need = NEEDS[op.name];
      const where = typeof need === 'object' ? (scope === 'own' ? 'on yourself' : 'on another user') : scope === 'own' ? 'in own project' : 'in a foreign project';
      const label = scopesOf(op).length === 1 ? op.name : `${op.name} ${where}`;
      return [label, caller, need === undefined ? 'no entry in NEEDS' : expected(need, caller, scope), op, scope] as const;
    }),
  ),
);

describe('authorization matrix', () => {
  test.each(CASES)('%s as %s → %s', async (_label, caller, code, op, scope) => {
    const t = target(caller, scope);
    const variables = op.name in VARIABLES ? await VARIABLES[op.name](t) : {};
    const before = code === 'OK' ? undefined : await snapshot();
    if (op.kind === OperationTypeNode.SUBSCRIPTION) {
      expect(await subscribeOnce(op, tokenOf(caller), variables, t.fx, code === 'OK')).toBe(code);
    } else {
      const result = await api.gql(tokenOf(caller), op.text, variables);
      expect({ code: codeOf(result), errors: result.errors?.length ?? 0 }).toEqual({ code, errors: code === 'OK' ? 0 : 1 });
      if (code === 'OK') {
        expect(result.data?.[op.rootField] ?? null).not.toBeNull();
        THEN[op.name]?.(result.data, caller);
      } else expect(result.data?.[op.rootField] ?? null).toBeNull(); // a refused call returns nothing of what it was asked for
    }
    if (before) expect(await snapshot()).toEqual(before);
  });
});
