import crypto from 'node:crypto';
import { codeOf, createUserWithToken, GqlResult, startTestApi, TestApi } from '../support/api';

/**
 * Document, blueprint and member semantics from the contract, through its operations, with the
 * domain events each change writes (read from the outbox table).
 */

let api: TestApi;
let admin: string;
let adminId: string;
let projectId: string;
let editor: { id: string; token: string };
let blueprintId: string;

interface EventRow {
  id: string;
  project_id: string;
  trigger: string;
  blueprint_id: string | null;
  metadata: Record<string, any>;
}

beforeAll(async () => {
  api = await startTestApi({ ROLE: 'api' }); // deliveries are not the subject here
  admin = api.adminToken;
  adminId = (await api.op(admin, 'Me')).data.me.id;
  projectId = (await api.op(admin, 'CreateProject', { input: { name: 'CMS' } })).data.createProject.id;
  editor = await createUserWithToken(api, 'editor@example.test', projectId, 'EDITOR');
  const bp = await api.op(admin, 'CreateBlueprint', {
    projectId,
    input: { name: 'Article', fields: [{ name: 'body', type: 'richtext' }, { name: 'views', type: 'number' }, { name: 'tags', type: 'string' }] },
  });
  blueprintId = bp.data.createBlueprint.id;
});

afterAll(async () => {
  await api.close();
});

async function allEventIds(): Promise<Set<string>> {
  const rows: Array<{ id: string }> = await api.app.dataSource.query('SELECT id FROM domain_event');
  return new Set(rows.map((r) => r.id));
}

/** Runs `work` and returns it with the domain events written meanwhile (sorted by trigger). */
async function withEvents<T>(work: () => Promise<T>): Promise<{ result: T; events: EventRow[] }> {
  const before = await allEventIds();
  const result = await work();
  const rows: EventRow[] = await api.app.dataSource.query('SELECT id, project_id, trigger, blueprint_id, metadata FROM domain_event');
  const events = rows.filter((r) => !before.has(r.id)).sort((a, b) => a.trigger.localeCompare(b.trigger));
  return { result, events };
}

function expectBadInput(result: GqlResult, field: string, rule?: RegExp): void {
  expect(codeOf(result)).toBe('BAD_USER_INPUT');
  expect(result.errors![0].message.startsWith(`${field}: `)).toBe(true);
  if (rule) expect(result.errors![0].message).toMatch(rule);
}

function ok<T = any>(result: GqlResult, key: string): T {
  expect(result.errors).toBeUndefined();
  return result.data[key];
}

async function createDoc(input: Record<string, unknown>, token = editor.token, project = projectId): Promise<any> {
  return ok(await api.op(token, 'CreateDocument', { projectId: project, input: { blueprintId, ...input } }), 'createDocument');
}

const updateDoc = (id: string, input: Record<string, unknown>, token = editor.token) => api.op(token, 'UpdateDocument', { id, input });
const setStatus = (id: string, status: string, token = editor.token) => api.op(token, 'SetDocumentStatus', { id, status });
const readDoc = async (id: string) => ok(await api.op(editor.token, 'Document', { id }), 'document');

describe('documents', () => {
  test('CreateDocument starts DRAFT (statusId 0) and writes one document_create', async () => {
    const { result: doc, events } = await withEvents(() => createDoc({ title: 'First', fields: { body: '<p>x</p>', views: 1 } }));
    expect(doc).toMatchObject({ projectId, blueprintId, statusId: 0, status: 'DRAFT', title: 'First', fields: { body: '<p>x</p>', views: 1 } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ project_id: projectId, trigger: 'document_create', blueprint_id: blueprintId });
    expect(events[0].metadata).toEqual({
      blueprint_id: blueprintId,
      document_id: doc.id,
      document_status_id: 0,
      triggered_user_id: editor.id,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(Math.abs(Date.parse(events[0].metadata.created_at) - Date.now())).toBeLessThan(60_000);
  });

  test('UpdateDocument merges fields: given keys replace, null removes, others stay', async () => {
    const doc = await createDoc({ title: 'Merge', fields: { body: 'a', views: 1, tags: 'x' } });
    const { result, events } = await withEvents(() => updateDoc(doc.id, { fields: { body: 'b', views: null } }));
    const updated = ok(result, 'updateDocument');
    expect(updated).toMatchObject({ title: 'Merge', statusId: 0, status: 'DRAFT', fields: { body: 'b', tags: 'x' } });
    expect(updated.fields).not.toHaveProperty('views');
    expect((await readDoc(doc.id)).fields).toEqual({ body: 'b', tags: 'x' });
    // A DRAFT stays DRAFT: one field update, no status event.
    expect(events.map((e) => e.trigger)).toEqual(['document_field_update']);
    expect(events[0].metadata).toMatchObject({ changed_fields: ['body', 'views'], document_status_id: 0, triggered_user_id: editor.id });
  });

  test('a title-only update leaves fields alone and names only title', async () => {
    const doc = await createDoc({ title: 'Old', fields: { body: 'a' } });
    const { result, events } = await withEvents(() => updateDoc(doc.id, { title: 'New' }));
    expect(ok(result, 'updateDocument')).toMatchObject({ title: 'New', fields: { body: 'a' } });
    expect(events).toHaveLength(1);
    expect(events[0].metadata.changed_fields).toEqual(['title']);
  });

  test('PUBLISHED → edit → CHANGED (both events in one save) → publish again → PUBLISHED', async () => {
    const doc = await createDoc({ title: 'Pub', fields: { body: 'a' } });

    const published = await withEvents(() => setStatus(doc.id, 'PUBLISHED'));
    const first = ok(published.result, 'setDocumentStatus');
    expect(first).toMatchObject({ statusId: 2, status: 'PUBLISHED' });
    expect(first.publishedAt).not.toBeNull();
    expect(published.events.map((e) => [e.trigger, e.metadata.document_status_id])).toEqual([['document_update', 2]]);

    const edited = await withEvents(() => updateDoc(doc.id, { title: 'Pub 2', fields: { views: 7 } }));
    expect(ok(edited.result, 'updateDocument')).toMatchObject({ statusId: 1, status: 'CHANGED', title: 'Pub 2', fields: { body: 'a', views: 7 } });
    expect(edited.events).toHaveLength(2);
    const [fieldUpdate, statusUpdate] = edited.events;
    expect(fieldUpdate.trigger).toBe('document_field_update');
    expect(fieldUpdate.metadata).toEqual({
      blueprint_id: blueprintId,
      document_id: doc.id,
      document_status_id: 1,
      changed_fields: ['title', 'views'],
      triggered_user_id: editor.id,
      created_at: expect.any(String),
    });
    expect(statusUpdate.trigger).toBe('document_update');
    expect(statusUpdate.metadata).toEqual({
      blueprint_id: blueprintId,
      document_id: doc.id,
      document_status_id: 1,
      triggered_user_id: editor.id,
      created_at: fieldUpdate.metadata.created_at,
    });
    expect((await readDoc(doc.id)).publishedAt).toBe(first.publishedAt); // still the published version's time

    const again = await withEvents(() => setStatus(doc.id, 'PUBLISHED'));
    const republished = ok(again.result, 'setDocumentStatus');
    expect(republished).toMatchObject({ statusId: 2, status: 'PUBLISHED' });
    expect(Date.parse(republished.publishedAt)).toBeGreaterThanOrEqual(Date.parse(first.publishedAt));
    expect(again.events.map((e) => [e.trigger, e.metadata.document_status_id])).toEqual([['document_update', 2]]);
    expect(await readDoc(doc.id)).toMatchObject({ statusId: 2, status: 'PUBLISHED', publishedAt: republished.publishedAt });
  });

  test('an update that changes nothing leaves a PUBLISHED document PUBLISHED, with no event', async () => {
    const doc = await createDoc({ title: 'Same', fields: { body: 'a', views: 3 } });
    ok(await setStatus(doc.id, 'PUBLISHED'), 'setDocumentStatus');
    for (const input of [{ title: 'Same', fields: { body: 'a', views: 3 } }, {}, { fields: {} }, { fields: { tags: null } }]) {
      const { result, events } = await withEvents(() => updateDoc(doc.id, input));
      expect({ input, doc: ok(result, 'updateDocument') }).toMatchObject({ input, doc: { statusId: 2, status: 'PUBLISHED' } });
      expect({ input, events }).toEqual({ input, events: [] });
    }
    expect(await readDoc(doc.id)).toMatchObject({ statusId: 2, title: 'Same', fields: { body: 'a', views: 3 } });
  });

  test('editing a CHANGED document keeps it CHANGED: a field update, no status event', async () => {
    const doc = await createDoc({ title: 'Twice', fields: { body: 'a' } });
    ok(await setStatus(doc.id, 'PUBLISHED'), 'setDocumentStatus');
    ok(await updateDoc(doc.id, { fields: { body: 'b' } }), 'updateDocument');
    const { result, events } = await withEvents(() => updateDoc(doc.id, { title: null, fields: { tags: 't' } }));
    expect(ok(result, 'updateDocument')).toMatchObject({ statusId: 1, status: 'CHANGED', title: null, fields: { body: 'b', tags: 't' } });
    expect(events.map((e) => [e.trigger, e.metadata.document_status_id, e.metadata.changed_fields])).toEqual([
      ['document_field_update', 1, ['title', 'tags']],
    ]);
  });

  test.each<[string, Record<string, unknown>, string, RegExp]>([
    ['a null field on create', { fields: { body: null } }, 'input.fields.body', /null/],
    ['a title over 1000 characters', { title: 't'.repeat(1001) }, 'input.title', /at most 1000/],
    ['fields over 1 MiB', { fields: { body: 'x'.repeat(1024 * 1024) } }, 'input.fields', /1 MiB/],
  ])('CreateDocument with %s is BAD_USER_INPUT', async (_label, input, field, rule) => {
    const { result, events } = await withEvents(() => api.op(editor.token, 'CreateDocument', { projectId, input: { blueprintId, ...input } }));
    expectBadInput(result, field, rule);
    expect(events).toEqual([]);
  });

  test('concurrent UpdateDocument calls on different keys all merge', async () => {
    const doc = await createDoc({ title: 'Busy', fields: {} });
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all([
        updateDoc(doc.id, { fields: { body: `b${round}` } }),
        updateDoc(doc.id, { fields: { views: round } }),
        updateDoc(doc.id, { fields: { tags: `t${round}` } }),
      ]);
      results.forEach((r) => expect(r.errors).toBeUndefined());
      expect({ round, fields: (await readDoc(doc.id)).fields }).toEqual({ round, fields: { body: `b${round}`, views: round, tags: `t${round}` } });
    }
  });

  test('setting CHANGED directly is BAD_USER_INPUT and writes no event', async () => {
    const doc = await createDoc({ title: 'C' });
    ok(await setStatus(doc.id, 'PUBLISHED'), 'setDocumentStatus');
    const { result, events } = await withEvents(() => setStatus(doc.id, 'CHANGED'));
    expectBadInput(result, 'status', /CHANGED/);
    expect(events).toEqual([]);
    expect(await readDoc(doc.id)).toMatchObject({ statusId: 2 });
  });

  test('ARCHIVED and back to DRAFT: each a document_update; DRAFT clears publishedAt', async () => {
    const doc = await createDoc({ title: 'Arch' });
    ok(await setStatus(doc.id, 'PUBLISHED'), 'setDocumentStatus');
    const archived = await withEvents(() => setStatus(doc.id, 'ARCHIVED'));
    expect(ok(archived.result, 'setDocumentStatus')).toMatchObject({ statusId: 3, status: 'ARCHIVED' });
    expect(archived.events.map((e) => [e.trigger, e.metadata.document_status_id])).toEqual([['document_update', 3]]);
    const draft = await withEvents(() => setStatus(doc.id, 'DRAFT'));
    expect(ok(draft.result, 'setDocumentStatus')).toMatchObject({ statusId: 0, status: 'DRAFT', publishedAt: null });
    expect(draft.events.map((e) => [e.trigger, e.metadata.document_status_id])).toEqual([['document_update', 0]]);
  });

  describe('fields must be an object keyed by fields of the blueprint', () => {
    test.each<[string, unknown, string]>([
      ['a string', 'body', 'input.fields'],
      ['an array', [{ body: 'x' }], 'input.fields'],
      ['a number', 5, 'input.fields'],
      ['an unknown key', { body: 'x', nope: 1 }, 'input.fields.nope'],
      ['a key differing only in case', { Body: 'x' }, 'input.fields.Body'],
    ])('CreateDocument with %s is BAD_USER_INPUT naming %s, and writes nothing', async (_label, fields, field) => {
      const before = Number((await api.app.dataSource.query('SELECT count(*) AS n FROM document'))[0].n);
      const { result, events } = await withEvents(() => api.op(editor.token, 'CreateDocument', { projectId, input: { blueprintId, fields } }));
      expectBadInput(result, field);
      expect(events).toEqual([]);
      expect(Number((await api.app.dataSource.query('SELECT count(*) AS n FROM document'))[0].n)).toBe(before);
    });

    test.each<[string, unknown, string]>([
      ['a string', 'body', 'input.fields'],
      ['an array', ['x'], 'input.fields'],
      ['a boolean', true, 'input.fields'],
      ['an unknown key', { body: 'changed', nope: 1 }, 'input.fields.nope'],
    ])('UpdateDocument with %s is BAD_USER_INPUT naming %s; the document and its status stay', async (_label, fields, field) => {
      const doc = await createDoc({ title: 'Keep', fields: { body: 'a' } });
      ok(await setStatus(doc.id, 'PUBLISHED'), 'setDocumentStatus');
      const { result, events } = await withEvents(() => updateDoc(doc.id, { title: 'Changed', fields }));
      expectBadInput(result, field);
      expect(events).toEqual([]);
      expect(await readDoc(doc.id)).toMatchObject({ title: 'Keep', fields: { body: 'a' }, statusId: 2 });
    });

    test('CreateDocument with a blueprint of another project is BAD_USER_INPUT', async () => {
      const other = ok(await api.op(admin, 'CreateProject', { input: { name: 'Elsewhere' } }), 'createProject');
      const otherBp = ok(await api.op(admin, 'CreateBlueprint', { projectId: other.id, input: { name: 'Page' } }), 'createBlueprint');
      const result = await api.op(editor.token, 'CreateDocument', { projectId, input: { blueprintId: otherBp.id } });
      expectBadInput(result, 'input.blueprintId', /blueprint of this project/);
    });
  });

  test('Document returns the blueprint { id name apiName }', async () => {
    const doc = await createDoc({ title: 'With bp' });
    const read = await readDoc(doc.id);
    expect(read.blueprint).toEqual({ id: blueprintId, name: 'Article', apiName: 'article' });
    expect(read).toMatchObject({ id: doc.id, projectId, blueprintId, statusId: 0, status: 'DRAFT', title: 'With bp', fields: {}, publishedAt: null });
  });

  test('DeleteDocument writes document_delete with the last status; the document is gone', async () => {
    const doc = await createDoc({ title: 'Bye' });
    ok(await setStatus(doc.id, 'PUBLISHED'), 'setDocumentStatus');
    const { result, events } = await withEvents(() => api.op(editor.token, 'DeleteDocument', { id: doc.id }));
    expect(ok(result, 'deleteDocument')).toBe(true);
    expect(events.map((e) => e.trigger)).toEqual(['document_delete']);
    expect(events[0].metadata).toMatchObject({ document_id: doc.id, blueprint_id: blueprintId, document_status_id: 2, triggered_user_id: editor.id });
    expect(codeOf(await api.op(editor.token, 'Document', { id: doc.id }))).toBe('NOT_FOUND');
  });
});

describe('Documents pagination', () => {
  let pageProject: string;
  let bpA: string;
  let bpB: string;
  const created: Array<{ id: string; blueprintId: string }> = [];

  beforeAll(async () => {
    pageProject = ok(await api.op(admin, 'CreateProject', { input: { name: 'Paging' } }), 'createProject').id;
    bpA = ok(await api.op(admin, 'CreateBlueprint', { projectId: pageProject, input: { name: 'A' } }), 'createBlueprint').id;
    bpB = ok(await api.op(admin, 'CreateBlueprint', { projectId: pageProject, input: { name: 'B' } }), 'createBlueprint').id;
    for (let i = 0; i < 25; i++) {
      const bp = i % 5 === 0 ? bpB : bpA; // 5 of B, 20 of A
      const doc = ok(await api.op(admin, 'CreateDocument', { projectId: pageProject, input: { blueprintId: bp, title: `doc ${i}` } }), 'createDocument');
      created.push({ id: doc.id, blueprintId: bp });
    }
  });

  async function page(vars: Record<string, unknown>) {
    return ok(await api.op(admin, 'Documents', { projectId: pageProject, ...vars }), 'documents');
  }

  async function walk(first: number, extra: Record<string, unknown> = {}): Promise<{ sizes: number[]; ids: string[]; hasNext: boolean[] }> {
    const sizes: number[] = [];
    const ids: string[] = [];
    const hasNext: boolean[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 50; guard++) {
      const p: any = await page({ first, after, ...extra });
      sizes.push(p.edges.length);
      ids.push(...p.edges.map((e: any) => e.node.id));
      hasNext.push(p.pageInfo.hasNextPage);
      if (p.edges.length > 0) expect(p.pageInfo.endCursor).toBe(p.edges[p.edges.length - 1].cursor);
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    return { sizes, ids, hasNext };
  }

  test('25 documents, first 10: pages of 10/10/5, newest first, no id twice, hasNextPage right', async () => {
    const { sizes, ids, hasNext } = await walk(10);
    expect(sizes).toEqual([10, 10, 5]);
    expect(hasNext).toEqual([true, true, false]);
    expect(new Set(ids).size).toBe(25);
    expect(ids).toEqual(created.map((d) => d.id).reverse());
  });

  test('exactly a page left: hasNextPage is false, not an empty extra page', async () => {
    const { sizes, hasNext } = await walk(5);
    expect(sizes).toEqual([5, 5, 5, 5, 5]);
    expect(hasNext).toEqual([true, true, true, true, false]);
  });

  test('the blueprintId filter', async () => {
    const a = await walk(10, { blueprintId: bpA });
    expect(a.sizes).toEqual([10, 10]);
    expect(a.ids).toEqual(created.filter((d) => d.blueprintId === bpA).map((d) => d.id).reverse());
    const b = await walk(10, { blueprintId: bpB });
    expect(b.sizes).toEqual([5]);
    expect(b.ids).toEqual(created.filter((d) => d.blueprintId === bpB).map((d) => d.id).reverse());
  });

  test('no first: the default page size', async () => {
    const p = await page({});
    expect(p.edges).toHaveLength(20);
    expect(p.pageInfo.hasNextPage).toBe(true);
  });

  test.each([
    ['random text', 'garbage'],
    ['base64 of nonsense', Buffer.from('hello|world').toString('base64url')],
    ['a uuid', crypto.randomUUID()],
  ])('a garbage `after` (%s) is BAD_USER_INPUT naming after', async (_label, after) => {
    expectBadInput(await api.op(admin, 'Documents', { projectId: pageProject, first: 10, after }), 'after');
  });

  test('a negative first is BAD_USER_INPUT naming first', async () => {
    expectBadInput(await api.op(admin, 'Documents', { projectId: pageProject, first: -1 }), 'first');
  });

  test('first > 100 is capped at 100; documents with the same created_at are paged by id without loss', async () => {
    const big = ok(await api.op(admin, 'CreateProject', { input: { name: 'Big' } }), 'createProject').id;
    const bp = ok(await api.op(admin, 'CreateBlueprint', { projectId: big, input: { name: 'Bulk' } }), 'createBlueprint').id;
    // Inserted in one statement, so all 130 share one created_at: the id is the only tie-breaker.
    await api.app.dataSource.query(
      `INSERT INTO document (project_id, blueprint_id, title) SELECT $1, $2, 'bulk ' || g FROM generate_series(1, 130) g`,
      [big, bp],
    );
    const capped = ok(await api.op(admin, 'Documents', { projectId: big, first: 1000 }), 'documents');
    expect(capped.edges).toHaveLength(100);
    expect(capped.pageInfo.hasNextPage).toBe(true);
    const rest = ok(await api.op(admin, 'Documents', { projectId: big, first: 1000, after: capped.pageInfo.endCursor }), 'documents');
    expect(rest.edges).toHaveLength(30);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    const ids = [...capped.edges, ...rest.edges].map((e: any) => e.node.id);
    expect(new Set(ids).size).toBe(130);
  });
});

describe('blueprints', () => {
  test('apiName is derived from the name when omitted, kept when given; blueprint_create is written', async () => {
    const { result, events } = await withEvents(() => api.op(admin, 'CreateBlueprint', { projectId, input: { name: 'Blog Post' } }));
    const bp = ok(result, 'createBlueprint');
    expect(bp).toMatchObject({ projectId, name: 'Blog Post', apiName: 'blogPost', variant: 'DOCUMENT', fields: [] });
    expect(events.map((e) => e.trigger)).toEqual(['blueprint_create']);
    expect(events[0]).toMatchObject({ blueprint_id: bp.id });
    expect(events[0].metadata).toMatchObject({ blueprint_id: bp.id, document_id: '', document_status_id: null, triggered_user_id: adminId });
    const explicit = ok(await api.op(admin, 'CreateBlueprint', { projectId, input: { name: 'Landing Page', apiName: 'landing_v2', variant: 'COMPONENT' } }), 'createBlueprint');
    expect(explicit).toMatchObject({ apiName: 'landing_v2', variant: 'COMPONENT' });
  });

  test('a duplicate apiName in a project is BAD_USER_INPUT (create and update), fine in another project', async () => {
    ok(await api.op(admin, 'CreateBlueprint', { projectId, input: { name: 'Unique One', apiName: 'uniqueOne' } }), 'createBlueprint');
    const dup = await withEvents(() => api.op(admin, 'CreateBlueprint', { projectId, input: { name: 'Other', apiName: 'uniqueOne' } }));
    expectBadInput(dup.result, 'input.apiName', /already used/);
    expect(dup.events).toEqual([]);
    const derivedDup = await api.op(admin, 'CreateBlueprint', { projectId, input: { name: 'unique one' } });
    expectBadInput(derivedDup, 'input.apiName', /already used/);

    const second = ok(await api.op(admin, 'CreateBlueprint', { projectId, input: { name: 'Second', apiName: 'second' } }), 'createBlueprint');
    const rename = await withEvents(() => api.op(admin, 'UpdateBlueprint', { id: second.id, input: { apiName: 'uniqueOne' } }));
    expectBadInput(rename.result, 'input.apiName', /already used/);
    expect(rename.events).toEqual([]);
    expect(ok(await api.op(admin, 'Blueprint', { id: second.id }), 'blueprint').apiName).toBe('second');

    const elsewhere = ok(await api.op(admin, 'CreateProject', { input: { name: 'Elsewhere 2' } }), 'createProject');
    ok(await api.op(admin, 'CreateBlueprint', { projectId: elsewhere.id, input: { name: 'Other', apiName: 'uniqueOne' } }), 'createBlueprint');
  });

  test('two CreateBlueprint calls racing for one apiName: one wins, the other is BAD_USER_INPUT (never a 500)', async () => {
    for (let round = 0; round < 5; round++) {
      const apiName = `racing${round}`;
      const results = await Promise.all([0, 1].map((i) => api.op(admin, 'CreateBlueprint', { projectId, input: { name: `Racing ${round} ${i}`, apiName } })));
      expect({ round, codes: results.map(codeOf).sort() }).toEqual({ round, codes: ['BAD_USER_INPUT', 'OK'] });
      const loser = results.find((r) => codeOf(r) !== 'OK')!;
      expectBadInput(loser, 'input.apiName', /already used/);
    }
  });

  test('UpdateBlueprint replacing the fields keeps the id of fields that keep their name', async () => {
    const bp = ok(
      await api.op(admin, 'CreateBlueprint', { projectId, input: { name: 'Fields', fields: [{ name: 'a', type: 'string' }, { name: 'b', type: 'number' }] } }),
      'createBlueprint',
    );
    const idOf = (fields: any[], name: string) => fields.find((f) => f.name === name)?.id;
    const { result, events } = await withEvents(() =>
      api.op(admin, 'UpdateBlueprint', { id: bp.id, input: { fields: [{ name: 'b', type: 'richtext' }, { name: 'c', type: 'boolean' }] } }),
    );
    const updated = ok(result, 'updateBlueprint');
    expect(updated.fields.map((f: any) => [f.name, f.type])).toEqual([['b', 'richtext'], ['c', 'boolean']]);
    expect(idOf(updated.fields, 'b')).toBe(idOf(bp.fields, 'b'));
    expect(idOf(updated.fields, 'c')).not.toBe(idOf(bp.fields, 'a'));
    expect(new Set(updated.fields.map((f: any) => f.id)).size).toBe(2);
    expect(events.map((e) => e.trigger)).toEqual(['blueprint_update']);
    expect(events[0].metadata).toMatchObject({ blueprint_id: bp.id, triggered_user_id: adminId });

    const read = ok(await api.op(admin, 'Blueprint', { id: bp.id }), 'blueprint');
    expect(read.fields).toEqual(updated.fields);

    // Re-sending the same list changes nothing: same ids, no event.
    const same = await withEvents(() => api.op(admin, 'UpdateBlueprint', { id: bp.id, input: { fields: [{ name: 'b', type: 'richtext' }, { name: 'c', type: 'boolean' }] } }));
    expect(ok(same.result, 'updateBlueprint').fields).toEqual(updated.fields);
    expect(same.events).toEqual([]);
  });

  test.each<[string, Array<{ name: string; type: string }>]>([
    ['same case', [{ name: 'x', type: 'string' }, { name: 'x', type: 'number' }]],
    ['differing case', [{ name: 'title2', type: 'string' }, { name: 'Title2', type: 'string' }]],
  ])('duplicate field names (%s) are rejected on create and update', async (_label, fields) => {
    const created = await withEvents(() => api.op(admin, 'CreateBlueprint', { projectId, input: { name: `Dup ${_label}`, fields } }));
    expectBadInput(created.result, 'input.fields[1].name', /duplicates/);
    expect(created.events).toEqual([]);
    const bp = ok(await api.op(admin, 'CreateBlueprint', { projectId, input: { name: `Dup ok ${_label}`, fields: [fields[0]] } }), 'createBlueprint');
    const updated = await withEvents(() => api.op(admin, 'UpdateBlueprint', { id: bp.id, input: { fields } }));
    expectBadInput(updated.result, 'input.fields[1].name', /duplicates/);
    expect(updated.events).toEqual([]);
    expect(ok(await api.op(admin, 'Blueprint', { id: bp.id }), 'blueprint').fields).toEqual(bp.fields);
  });

  test('deleting a blueprint with documents is BAD_USER_INPUT; deleting an empty one works', async () => {
    const bp = ok(await api.op(admin, 'CreateBlueprint', { projectId, input: { name: 'Deletable', fields: [{ name: 'x', type: 'string' }] } }), 'createBlueprint');
    const doc = ok(await api.op(admin, 'CreateDocument', { projectId, input: { blueprintId: bp.id, title: 'blocker' } }), 'createDocument');
    const refused = await withEvents(() => api.op(admin, 'DeleteBlueprint', { id: bp.id }));
    expectBadInput(refused.result, 'id', /document/);
    expect(refused.events).toEqual([]);
    expect(codeOf(await api.op(admin, 'Blueprint', { id: bp.id }))).toBe('OK');

    ok(await api.op(admin, 'DeleteDocument', { id: doc.id }), 'deleteDocument');
    const deleted = await withEvents(() => api.op(admin, 'DeleteBlueprint', { id: bp.id }));
    expect(ok(deleted.result, 'deleteBlueprint')).toBe(true);
    expect(deleted.events.map((e) => e.trigger)).toEqual(['blueprint_delete']);
    expect(deleted.events[0].metadata).toMatchObject({ blueprint_id: bp.id, document_id: '', document_status_id: null, triggered_user_id: adminId });
    expect(codeOf(await api.op(admin, 'Blueprint', { id: bp.id }))).toBe('NOT_FOUND');
    const list = ok(await api.op(admin, 'Blueprints', { projectId }), 'blueprints');
    expect(list.map((b: any) => b.id)).not.toContain(bp.id);
  });

  test('a field removed from the blueprint can no longer be written on its documents', async () => {
    const bp = ok(await api.op(admin, 'CreateBlueprint', { projectId, input: { name: 'Shrinking', fields: [{ name: 'keep', type: 'string' }, { name: 'drop', type: 'string' }] } }), 'createBlueprint');
    const doc = ok(await api.op(admin, 'CreateDocument', { projectId, input: { blueprintId: bp.id, fields: { keep: 1, drop: 2 } } }), 'createDocument');
    ok(await api.op(admin, 'UpdateBlueprint', { id: bp.id, input: { fields: [{ name: 'keep', type: 'string' }] } }), 'updateBlueprint');
    expectBadInput(await updateDoc(doc.id, { fields: { drop: 3 } }, admin), 'input.fields.drop', /not a field of blueprint "shrinking"/);
  });
});

describe('members', () => {
  test('Assign twice changes the role; ProjectMembers lists emails; Deassign removes; each writes its event', async () => {
    const memberProject = ok(await api.op(admin, 'CreateProject', { input: { name: 'Team' } }), 'createProject').id;
    const user = ok(await api.op(admin, 'CreateUser', { input: { email: 'member@example.test', name: 'M' } }), 'createUser');
    const assign = (role: string) => api.op(admin, 'AssignProjectMember', { projectId: memberProject, userId: user.id, role });

    const first = await withEvents(() => assign('VIEWER'));
    expect(ok(first.result, 'assignProjectMember')).toEqual({ projectId: memberProject, userId: user.id, role: 'VIEWER' });
    expect(first.events.map((e) => e.trigger)).toEqual(['project_member_assigned']);
    expect(first.events[0]).toMatchObject({ project_id: memberProject, blueprint_id: null });
    expect(first.events[0].metadata).toEqual({
      blueprint_id: '',
      document_id: '',
      document_status_id: null,
      user_id: user.id,
      role: 'viewer',
      triggered_user_id: adminId,
      created_at: expect.any(String),
    });

    const second = await withEvents(() => assign('EDITOR'));
    expect(ok(second.result, 'assignProjectMember').role).toBe('EDITOR');
    expect(second.events.map((e) => [e.trigger, e.metadata.role, e.metadata.user_id])).toEqual([['project_member_assigned', 'editor', user.id]]);

    const same = await withEvents(() => assign('EDITOR'));
    expect(ok(same.result, 'assignProjectMember').role).toBe('EDITOR');
    expect(same.events).toEqual([]);

    const members = ok(await api.op(admin, 'ProjectMembers', { projectId: memberProject }), 'projectMembers');
    expect(members).toEqual([
      { projectId: memberProject, userId: adminId, role: 'OWNER', user: { id: adminId, email: expect.any(String) } },
      { projectId: memberProject, userId: user.id, role: 'EDITOR', user: { id: user.id, email: 'member@example.test' } },
    ]);

    const removed = await withEvents(() => api.op(admin, 'DeassignProjectMember', { projectId: memberProject, userId: user.id }));
    expect(ok(removed.result, 'deassignProjectMember')).toBe(true);
    expect(removed.events.map((e) => e.trigger)).toEqual(['project_member_deassigned']);
    expect(removed.events[0].metadata).toMatchObject({ user_id: user.id, role: 'editor', triggered_user_id: adminId });
    const after = ok(await api.op(admin, 'ProjectMembers', { projectId: memberProject }), 'projectMembers');
    expect(after.map((m: any) => m.userId)).toEqual([adminId]);

    const again = await withEvents(() => api.op(admin, 'DeassignProjectMember', { projectId: memberProject, userId: user.id }));
    expect(codeOf(again.result)).toBe('NOT_FOUND');
    expect(again.events).toEqual([]);
  });

  test('two AssignProjectMember calls racing for a new member both answer (never a 500); one membership row', async () => {
    const racing = ok(await api.op(admin, 'CreateProject', { input: { name: 'Racing members' } }), 'createProject').id;
    for (let round = 0; round < 5; round++) {
      const user = ok(await api.op(admin, 'CreateUser', { input: { email: `race${round}@example.test` } }), 'createUser');
      const results = await Promise.all(
        ['VIEWER', 'EDITOR'].map((role) => api.op(admin, 'AssignProjectMember', { projectId: racing, userId: user.id, role })),
      );
      expect({ round, codes: results.map(codeOf) }).toEqual({ round, codes: ['OK', 'OK'] });
      const rows = await api.app.dataSource.query('SELECT role FROM project_member WHERE project_id = $1 AND user_id = $2', [racing, user.id]);
      expect(rows).toHaveLength(1);
    }
  });

  test('the last owner cannot be removed or demoted; nothing is written', async () => {
    const owned = ok(await api.op(admin, 'CreateProject', { input: { name: 'Owned' } }), 'createProject').id;
    const demote = await withEvents(() => api.op(admin, 'AssignProjectMember', { projectId: owned, userId: adminId, role: 'ADMIN' }));
    expectBadInput(demote.result, 'userId', /last owner/);
    expect(demote.events).toEqual([]);
    const remove = await withEvents(() => api.op(admin, 'DeassignProjectMember', { projectId: owned, userId: adminId }));
    expectBadInput(remove.result, 'userId', /last owner/);
    expect(remove.events).toEqual([]);
  });

  test('an editor cannot change members (FORBIDDEN) and nothing is written', async () => {
    const { result, events } = await withEvents(() => api.op(editor.token, 'AssignProjectMember', { projectId, userId: editor.id, role: 'ADMIN' }));
    expect(codeOf(result)).toBe('FORBIDDEN');
    expect(events).toEqual([]);
  });
});
