import crypto from 'node:crypto';
import { OperationName, OPERATIONS } from '../../sdk/operations';
import { codeOf, createUserWithToken, GqlResult, startTestApi, TestApi } from '../support/api';

/**
 * The authorization matrix of the contract ("Roles and errors"): every operation of the
 * management API, called by every kind of caller, answers exactly one code. The table below
 * is the specification; one test per (operation, caller) is generated from it.
 */

const CALLERS = ['anonymous', 'unknown token', 'outsider', 'VIEWER', 'EDITOR', 'ADMIN', 'OWNER', 'super-admin'] as const;
type Caller = (typeof CALLERS)[number];
type Member = 'VIEWER' | 'EDITOR' | 'ADMIN' | 'OWNER';
const MEMBER_RANK: Record<Member, number> = { VIEWER: 1, EDITOR: 2, ADMIN: 3, OWNER: 4 };
type Code = 'OK' | 'UNAUTHENTICATED' | 'NOT_FOUND' | 'FORBIDDEN';
type Expected = Record<Caller, Code>;

/** A project operation: members from `min` up and super-admins may; lower roles are FORBIDDEN; non-members learn nothing. */
function atLeast(min: Member): Expected {
  const member = (role: Member): Code => (MEMBER_RANK[role] >= MEMBER_RANK[min] ? 'OK' : 'FORBIDDEN');
  return {
    anonymous: 'UNAUTHENTICATED',
    'unknown token': 'UNAUTHENTICATED',
    outsider: 'NOT_FOUND',
    VIEWER: member('VIEWER'),
    EDITOR: member('EDITOR'),
    ADMIN: member('ADMIN'),
    OWNER: member('OWNER'),
    'super-admin': 'OK',
  };
}

const ANY_USER: Expected = { ...atLeast('VIEWER'), outsider: 'OK' };
const SUPER_ADMIN_ONLY: Expected = {
  anonymous: 'UNAUTHENTICATED',
  'unknown token': 'UNAUTHENTICATED',
  outsider: 'FORBIDDEN',
  VIEWER: 'FORBIDDEN',
  EDITOR: 'FORBIDDEN',
  ADMIN: 'FORBIDDEN',
  OWNER: 'FORBIDDEN',
  'super-admin': 'OK',
};

interface User {
  id: string;
  token: string;
}

/** What exists before the matrix runs: project P with one member per role, and an outsider with a project of their own. */
interface World {
  projectId: string;
  outsidersProjectId: string;
  blueprintId: string;
  documentId: string;
  webhookId: string;
  users: Record<'outsider' | Member | 'bystander' | 'super-admin', User>;
  /** Fresh fixtures in P, made by the super-admin, for rows whose operation changes or destroys what it is given. */
  fresh: {
    blueprint(): Promise<string>;
    document(): Promise<string>;
    webhook(): Promise<string>;
    user(): Promise<string>;
    member(role: Member): Promise<string>;
  };
}

interface Row {
  op: OperationName;
  /** Distinguishes rows of the same operation. */
  variant?: string;
  expected: Expected;
  vars?: (world: World, me: User | undefined) => Promise<Record<string, unknown>> | Record<string, unknown>;
  /** Further checks on a successful answer. */
  then?: (data: any, caller: Caller, world: World) => void;
}

let seq = 0;
const unique = (prefix: string) => `${prefix}${++seq}_${crypto.randomBytes(3).toString('hex')}`;
const webhookInput = () => ({ name: unique('hook'), url: 'http://127.0.0.1:9/hook', triggers: ['DOCUMENT_CREATE'] });

// ---------------------------------------------------------------------------------------------
// The specification.
// ---------------------------------------------------------------------------------------------
const SPEC: Row[] = [
  // identity
  { op: 'Me', expected: ANY_USER },
  { op: 'CreateUser', expected: SUPER_ADMIN_ONLY, vars: () => ({ input: { email: `${unique('u')}@example.test` } }) },
  { op: 'CreateApiToken', variant: 'for yourself (no userId)', expected: ANY_USER, vars: () => ({ name: 'mine' }) },
  {
    op: 'CreateApiToken',
    variant: 'for yourself (your own userId)',
    expected: ANY_USER,
    vars: (_w, me) => ({ userId: me?.id ?? crypto.randomUUID(), name: 'mine' }),
  },
  {
    op: 'CreateApiToken',
    variant: 'for another user',
    expected: SUPER_ADMIN_ONLY,
    vars: (w) => ({ userId: w.users.bystander.id, name: 'theirs' }),
  },

  // projects and members
  { op: 'CreateProject', expected: ANY_USER, vars: () => ({ input: { name: unique('Project ') } }) },
  {
    op: 'Projects',
    expected: ANY_USER,
    then: (data, caller, w) => {
      const ids = (data.projects as Array<{ id: string }>).map((p) => p.id);
      if (caller === 'outsider') {
        expect(ids).not.toContain(w.projectId);
        expect(ids).toContain(w.outsidersProjectId);
      } else {
        expect(ids).toContain(w.projectId);
        if (caller !== 'super-admin') expect(ids).not.toContain(w.outsidersProjectId);
      }
    },
  },
  { op: 'ProjectMembers', expected: atLeast('VIEWER'), vars: (w) => ({ projectId: w.projectId }) },
  {
    op: 'AssignProjectMember',
    expected: atLeast('ADMIN'),
    vars: async (w) => ({ projectId: w.projectId, userId: await w.fresh.user(), role: 'EDITOR' }),
  },
  {
    op: 'DeassignProjectMember',
    expected: atLeast('ADMIN'),
    vars: async (w) => ({ projectId: w.projectId, userId: await w.fresh.member('VIEWER') }),
  },

  // blueprints
  { op: 'Blueprint', expected: atLeast('VIEWER'), vars: (w) => ({ id: w.blueprintId }) },
  { op: 'Blueprints', expected: atLeast('VIEWER'), vars: (w) => ({ projectId: w.projectId }) },
  {
    op: 'CreateBlueprint',
    expected: atLeast('ADMIN'),
    vars: (w) => ({ projectId: w.projectId, input: { name: 'Page', apiName: unique('page'), fields: [{ name: 'body', type: 'richtext' }] } }),
  },
  {
    op: 'UpdateBlueprint',
    expected: atLeast('ADMIN'),
    vars: async (w) => ({ id: await w.fresh.blueprint(), input: { name: 'Renamed', fields: [{ name: 'summary', type: 'string' }] } }),
  },
  { op: 'DeleteBlueprint', expected: atLeast('ADMIN'), vars: async (w) => ({ id: await w.fresh.blueprint() }) },

  // documents
  { op: 'Document', expected: atLeast('VIEWER'), vars: (w) => ({ id: w.documentId }) },
  { op: 'Documents', expected: atLeast('VIEWER'), vars: (w) => ({ projectId: w.projectId, first: 10 }) },
  {
    op: 'CreateDocument',
    expected: atLeast('EDITOR'),
    vars: (w) => ({ projectId: w.projectId, input: { blueprintId: w.blueprintId, title: 'New', fields: { body: 'text' } } }),
  },
  {
    op: 'UpdateDocument',
    expected: atLeast('EDITOR'),
    vars: async (w) => ({ id: await w.fresh.document(), input: { title: 'Edited', fields: { body: 'edited' } } }),
  },
  { op: 'SetDocumentStatus', expected: atLeast('EDITOR'), vars: async (w) => ({ id: await w.fresh.document(), status: 'PUBLISHED' }) },
  { op: 'DeleteDocument', expected: atLeast('EDITOR'), vars: async (w) => ({ id: await w.fresh.document() }) },

  // webhooks: ADMIN for everything, reads included (they carry secrets)
  { op: 'Webhooks', expected: atLeast('ADMIN'), vars: (w) => ({ projectId: w.projectId }) },
  {
    op: 'Webhook',
    expected: atLeast('ADMIN'),
    vars: (w) => ({ id: w.webhookId }),
    then: (data) => expect(data.webhook.signingSecret).toMatch(/^whsec_/),
  },
  { op: 'CreateWebhook', expected: atLeast('ADMIN'), vars: (w) => ({ projectId: w.projectId, input: webhookInput() }) },
  { op: 'UpdateWebhook', expected: atLeast('ADMIN'), vars: async (w) => ({ id: await w.fresh.webhook(), input: { name: 'Renamed', enabled: false } }) },
  { op: 'DeleteWebhook', expected: atLeast('ADMIN'), vars: async (w) => ({ id: await w.fresh.webhook() }) },
  { op: 'RotateWebhookSecret', expected: atLeast('ADMIN'), vars: async (w) => ({ id: await w.fresh.webhook() }) },
];

/** The issue-2 operations of the contract; the activity log (calls, replay, test, subscription) comes later. */
const NOT_IN_THIS_MATRIX: OperationName[] = ['WebhookCalls', 'WebhookCallsCount', 'WebhookCall', 'ReplayWebhookCall', 'TestWebhook', 'WebhookCallLogged'];

// ---------------------------------------------------------------------------------------------

let api: TestApi;
let world: World;

function must(result: GqlResult, what: string): any {
  if (result.errors) throw new Error(`${what} failed: ${JSON.stringify(result.errors)}`);
  return result.data;
}

function rootField(op: string): string {
  return op[0].toLowerCase() + op.slice(1);
}

function tokenOf(caller: Caller): string | null {
  switch (caller) {
    case 'anonymous':
      return null;
    case 'unknown token':
      return `cms_${crypto.randomBytes(32).toString('base64url')}`;
    default:
      return world.users[caller].token;
  }
}

function userOf(caller: Caller): User | undefined {
  return caller === 'anonymous' || caller === 'unknown token' ? undefined : world.users[caller];
}

beforeAll(async () => {
  api = await startTestApi({ ROLE: 'api' }); // deliveries are not the subject here
  const admin = api.adminToken;
  const owner = await createUserWithToken(api, 'owner@example.test');
  // The owner creates the project (and so becomes its OWNER), as a real user would.
  const projectId = must(await api.op(owner.token, 'CreateProject', { input: { name: 'P' } }), 'CreateProject').createProject.id as string;
  const outsider = await createUserWithToken(api, 'outsider@example.test');
  const outsidersProjectId = must(await api.op(outsider.token, 'CreateProject', { input: { name: 'Elsewhere' } }), 'CreateProject').createProject
    .id as string;
  const users = {
    OWNER: owner,
    ADMIN: await createUserWithToken(api, 'admin@example.test', projectId, 'ADMIN'),
    EDITOR: await createUserWithToken(api, 'editor@example.test', projectId, 'EDITOR'),
    VIEWER: await createUserWithToken(api, 'viewer@example.test', projectId, 'VIEWER'),
    outsider,
    bystander: await createUserWithToken(api, 'bystander@example.test'),
    'super-admin': { id: must(await api.op(admin, 'Me'), 'Me').me.id as string, token: admin },
  };

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
  const user = async () => must(await api.op(admin, 'CreateUser', { input: { email: `${unique('fresh')}@example.test` } }), 'CreateUser').createUser.id as string;
  const member = async (role: Member) => {
    const userId = await user();
    must(await api.op(admin, 'AssignProjectMember', { projectId, userId, role }), 'AssignProjectMember');
    return userId;
  };

  world = {
    projectId,
    outsidersProjectId,
    blueprintId,
    documentId: await document(),
    webhookId: await webhook(),
    users,
    fresh: { blueprint, document, webhook, user, member },
  };
});

afterAll(async () => {
  await api?.close();
});

test('the matrix covers every issue-2 operation of the contract', () => {
  const covered = new Set(SPEC.map((row) => row.op));
  const expected = (Object.keys(OPERATIONS) as OperationName[]).filter((op) => !NOT_IN_THIS_MATRIX.includes(op));
  expect([...covered].sort()).toEqual(expected.sort());
});

const CASES = SPEC.flatMap((row) =>
  CALLERS.map((caller) => [`${row.op}${row.variant ? ` ${row.variant}` : ''}`, caller, row.expected[caller], row] as const),
);

describe('authorization matrix', () => {
  test.each(CASES)('%s as %s → %s', async (_name, caller, expected, row) => {
    const variables = row.vars ? await row.vars(world, userOf(caller)) : undefined;
    const result = await api.op(tokenOf(caller), row.op, variables);
    expect({ code: codeOf(result), errors: result.errors?.length ?? 0 }).toEqual({ code: expected, errors: expected === 'OK' ? 0 : 1 });
    if (expected === 'OK') {
      expect(result.data?.[rootField(row.op)]).toBeTruthy();
      row.then?.(result.data, caller, world);
    } else {
      // A refused call returns nothing of what it was asked for.
      expect(result.data?.[rootField(row.op)] ?? null).toBeNull();
    }
  });
});

describe('a missing id and an id in another project are indistinguishable', () => {
  const missing = () => crypto.randomUUID();
  /** Operations that take the id of something inside a project, with that id in their variables. */
  const BY_ID: Array<[OperationName, (w: World, id?: string) => Record<string, unknown>]> = [
    ['ProjectMembers', (w, id = w.projectId) => ({ projectId: id })],
    ['AssignProjectMember', (w, id = w.projectId) => ({ projectId: id, userId: w.users.bystander.id, role: 'VIEWER' })],
    ['DeassignProjectMember', (w, id = w.projectId) => ({ projectId: id, userId: w.users.VIEWER.id })],
    ['Blueprints', (w, id = w.projectId) => ({ projectId: id })],
    ['CreateBlueprint', (w, id = w.projectId) => ({ projectId: id, input: { name: 'X', apiName: unique('x') } })],
    ['Blueprint', (w, id = w.blueprintId) => ({ id })],
    ['UpdateBlueprint', (w, id = w.blueprintId) => ({ id, input: { name: 'X' } })],
    ['DeleteBlueprint', (w, id = w.blueprintId) => ({ id })],
    ['Documents', (w, id = w.projectId) => ({ projectId: id })],
    ['CreateDocument', (w, id = w.projectId) => ({ projectId: id, input: { blueprintId: w.blueprintId, title: 'X' } })],
    ['Document', (w, id = w.documentId) => ({ id })],
    ['UpdateDocument', (w, id = w.documentId) => ({ id, input: { title: 'X' } })],
    ['SetDocumentStatus', (w, id = w.documentId) => ({ id, status: 'ARCHIVED' })],
    ['DeleteDocument', (w, id = w.documentId) => ({ id })],
    ['Webhooks', (w, id = w.projectId) => ({ projectId: id })],
    ['CreateWebhook', (w, id = w.projectId) => ({ projectId: id, input: webhookInput() })],
    ['Webhook', (w, id = w.webhookId) => ({ id })],
    ['UpdateWebhook', (w, id = w.webhookId) => ({ id, input: { name: 'X' } })],
    ['DeleteWebhook', (w, id = w.webhookId) => ({ id })],
    ['RotateWebhookSecret', (w, id = w.webhookId) => ({ id })],
  ];

  test.each(BY_ID)('%s', async (op, vars) => {
    const elsewhere = await api.op(world.users.outsider.token, op, vars(world));
    const missingForOutsider = await api.op(world.users.outsider.token, op, vars(world, missing()));
    const missingForOwner = await api.op(world.users.OWNER.token, op, vars(world, missing()));
    const missingForSuperAdmin = await api.op(api.adminToken, op, vars(world, missing()));
    const answer = (r: GqlResult) => ({ code: codeOf(r), message: r.errors?.[0]?.message });
    expect(answer(elsewhere).code).toBe('NOT_FOUND');
    expect(answer(missingForOutsider)).toEqual(answer(elsewhere));
    expect(answer(missingForOwner)).toEqual(answer(elsewhere));
    expect(answer(missingForSuperAdmin)).toEqual(answer(elsewhere));
  });

  test('the refused calls changed nothing in the other project', async () => {
    const owner = world.users.OWNER.token;
    expect(codeOf(await api.op(owner, 'Blueprint', { id: world.blueprintId }))).toBe('OK');
    expect(codeOf(await api.op(owner, 'Document', { id: world.documentId }))).toBe('OK');
    expect(codeOf(await api.op(owner, 'Webhook', { id: world.webhookId }))).toBe('OK');
    const members = must(await api.op(owner, 'ProjectMembers', { projectId: world.projectId }), 'ProjectMembers').projectMembers as Array<{ userId: string }>;
    expect(members.map((m) => m.userId)).toContain(world.users.VIEWER.id);
    expect(members.map((m) => m.userId)).not.toContain(world.users.bystander.id);
  });
});

describe('member management rules', () => {
  let projectId: string;
  let owner: User;
  let admin: User;

  const members = async () => {
    const data = must(await api.op(owner.token, 'ProjectMembers', { projectId }), 'ProjectMembers');
    return Object.fromEntries((data.projectMembers as Array<{ userId: string; role: string }>).map((m) => [m.userId, m.role]));
  };
  const expectBadUserId = (result: GqlResult) => {
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0].extensions?.field).toBe('userId');
    expect(result.errors![0].message).toMatch(/userId/);
    expect(result.errors![0].message).toMatch(/last owner/i);
  };

  beforeAll(async () => {
    owner = await createUserWithToken(api, 'rules-owner@example.test');
    projectId = must(await api.op(owner.token, 'CreateProject', { input: { name: 'Rules' } }), 'CreateProject').createProject.id;
    admin = await createUserWithToken(api, 'rules-admin@example.test', projectId, 'ADMIN');
  });

  test('the creator of a project is its OWNER', async () => {
    expect(await members()).toEqual({ [owner.id]: 'OWNER', [admin.id]: 'ADMIN' });
  });

  test('an ADMIN cannot grant OWNER, neither to a new member nor to an existing one', async () => {
    const newcomer = await createUserWithToken(api, 'rules-newcomer@example.test');
    const granted = await api.op(admin.token, 'AssignProjectMember', { projectId, userId: newcomer.id, role: 'OWNER' });
    expect(codeOf(granted)).toBe('FORBIDDEN');
    const selfPromoted = await api.op(admin.token, 'AssignProjectMember', { projectId, userId: admin.id, role: 'OWNER' });
    expect(codeOf(selfPromoted)).toBe('FORBIDDEN');
    expect(await members()).toEqual({ [owner.id]: 'OWNER', [admin.id]: 'ADMIN' });
  });

  test('an ADMIN cannot demote or remove an OWNER', async () => {
    expect(codeOf(await api.op(admin.token, 'AssignProjectMember', { projectId, userId: owner.id, role: 'VIEWER' }))).toBe('FORBIDDEN');
    expect(codeOf(await api.op(admin.token, 'DeassignProjectMember', { projectId, userId: owner.id }))).toBe('FORBIDDEN');
    expect((await members())[owner.id]).toBe('OWNER');
  });

  test('the last OWNER cannot be removed, by themselves or by a super-admin', async () => {
    expectBadUserId(await api.op(owner.token, 'DeassignProjectMember', { projectId, userId: owner.id }));
    expectBadUserId(await api.op(api.adminToken, 'DeassignProjectMember', { projectId, userId: owner.id }));
    expect((await members())[owner.id]).toBe('OWNER');
  });

  test('the last OWNER cannot be demoted, by themselves or by a super-admin', async () => {
    expectBadUserId(await api.op(owner.token, 'AssignProjectMember', { projectId, userId: owner.id, role: 'ADMIN' }));
    expectBadUserId(await api.op(api.adminToken, 'AssignProjectMember', { projectId, userId: owner.id, role: 'VIEWER' }));
    expect((await members())[owner.id]).toBe('OWNER');
  });

  test('with a second OWNER, the first can step down', async () => {
    expect(codeOf(await api.op(owner.token, 'AssignProjectMember', { projectId, userId: admin.id, role: 'OWNER' }))).toBe('OK');
    expect(codeOf(await api.op(owner.token, 'AssignProjectMember', { projectId, userId: owner.id, role: 'ADMIN' }))).toBe('OK');
    expect(await members()).toEqual({ [owner.id]: 'ADMIN', [admin.id]: 'OWNER' });
    // ...and now the other one is the last owner.
    expectBadUserId(await api.op(admin.token, 'DeassignProjectMember', { projectId, userId: admin.id }));
  });
});
