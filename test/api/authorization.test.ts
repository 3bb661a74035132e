import crypto from 'node:crypto';
import { OperationName } from '../../sdk/operations';
import { codeOf, createUserWithToken, GqlResult, startTestApi, TestApi } from '../support/api';

/**
 * Authorization rules the matrix (authorization-matrix.test.ts) does not spell out: a missing
 * id and an id in another project answer exactly alike, and who may hand out or take away
 * OWNER.
 */

type Member = 'VIEWER' | 'EDITOR' | 'ADMIN' | 'OWNER';

interface User {
  id: string;
  token: string;
}

/** Project P with one member per role, and an outsider with a project of their own. */
interface World {
  projectId: string;
  blueprintId: string;
  documentId: string;
  webhookId: string;
  users: Record<'outsider' | Member | 'bystander', User>;
}

let seq = 0;
const unique = (prefix: string) => `${prefix}${++seq}_${crypto.randomBytes(3).toString('hex')}`;
const webhookInput = () => ({ name: unique('hook'), url: 'http://127.0.0.1:9/hook', triggers: ['DOCUMENT_CREATE'] });

let api: TestApi;
let world: World;

function must(result: GqlResult, what: string): any {
  if (result.errors) throw new Error(`${what} failed: ${JSON.stringify(result.errors)}`);
  return result.data;
}

beforeAll(async () => {
  api = await startTestApi({ ROLE: 'api' }); // deliveries are not the subject here
  const admin = api.adminToken;
  const owner = await createUserWithToken(api, 'owner@example.test');
  const projectId = must(await api.op(owner.token, 'CreateProject', { input: { name: 'P' } }), 'CreateProject').createProject.id as string;
  const outsider = await createUserWithToken(api, 'outsider@example.test');
  must(await api.op(outsider.token, 'CreateProject', { input: { name: 'Elsewhere' } }), 'CreateProject');
  const blueprintId = must(
    await api.op(admin, 'CreateBlueprint', { projectId, input: { name: 'Post', apiName: unique('post'), fields: [{ name: 'body', type: 'string' }] } }),
    'CreateBlueprint',
  ).createBlueprint.id as string;
  world = {
    projectId,
    blueprintId,
    documentId: must(await api.op(admin, 'CreateDocument', { projectId, input: { blueprintId, title: 'Doc', fields: { body: 'x' } } }), 'CreateDocument')
      .createDocument.id,
    webhookId: must(await api.op(admin, 'CreateWebhook', { projectId, input: webhookInput() }), 'CreateWebhook').createWebhook.id,
    users: {
      OWNER: owner,
      ADMIN: await createUserWithToken(api, 'admin@example.test', projectId, 'ADMIN'),
      EDITOR: await createUserWithToken(api, 'editor@example.test', projectId, 'EDITOR'),
      VIEWER: await createUserWithToken(api, 'viewer@example.test', projectId, 'VIEWER'),
      outsider,
      bystander: await createUserWithToken(api, 'bystander@example.test'),
    },
  };
});

afterAll(async () => {
  await api?.close();
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
