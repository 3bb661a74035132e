import { WebhookTrigger } from '../webhooks/triggers';
import {
  BlueprintSnapshot,
  blueprintEvents,
  changedDocumentFields,
  DocumentSnapshot,
  documentEvents,
  MemberSnapshot,
  memberEvents,
} from './event-mapping';

const now = new Date('2026-05-06T07:08:09.123Z');
const ctx = { actorId: 'actor-1', now };
const PROJECT = 'project-1';
const BLUEPRINT = 'blueprint-1';

function doc(overrides: Partial<DocumentSnapshot> = {}): DocumentSnapshot {
  return { id: 'doc-1', projectId: PROJECT, blueprintId: BLUEPRINT, statusId: 0, title: 'Hello', fields: { body: 'x', n: 1 }, ...overrides };
}

function bp(overrides: Partial<BlueprintSnapshot> = {}): BlueprintSnapshot {
  return { id: BLUEPRINT, projectId: PROJECT, name: 'Post', apiName: 'post', variant: 'DOCUMENT', fields: [{ id: 'f1', name: 'body', type: 'richtext' }], ...overrides };
}

function member(overrides: Partial<MemberSnapshot> = {}): MemberSnapshot {
  return { projectId: PROJECT, userId: 'user-1', role: 'EDITOR', ...overrides };
}

/** What a body template may show besides the metadata: the title as of the event. */
const docContext = { document: { title: 'Hello' } };

const docMeta = (statusId: number) => ({
  blueprint_id: BLUEPRINT,
  document_id: 'doc-1',
  document_status_id: statusId,
  created_at: now.toISOString(),
  triggered_user_id: 'actor-1',
});

describe('changedDocumentFields', () => {
  test.each<[string, Partial<DocumentSnapshot>, Partial<DocumentSnapshot>, string[]]>([
    ['nothing', {}, {}, []],
    ['title only', {}, { title: 'Bye' }, ['title']],
    ['title set to null', {}, { title: null }, ['title']],
    ['null and undefined title are the same', { title: null }, { title: undefined as unknown as null }, []],
    ['a field value', {}, { fields: { body: 'y', n: 1 } }, ['body']],
    ['a field added', {}, { fields: { body: 'x', n: 1, extra: true } }, ['extra']],
    ['a field removed', {}, { fields: { body: 'x' } }, ['n']],
    ['title first, then keys sorted', {}, { title: 'T', fields: { body: 'x', n: 2, a: 1 } }, ['title', 'a', 'n']],
    ['deep equal objects are no change', { fields: { obj: { a: [1, { b: 2 }] } } }, { fields: { obj: { a: [1, { b: 2 }] } } }, []],
    ['deep difference is a change', { fields: { obj: { a: [1, { b: 2 }] } } }, { fields: { obj: { a: [1, { b: 3 }] } } }, ['obj']],
    ['type matters (1 vs "1")', { fields: { n: 1 } }, { fields: { n: '1' } }, ['n']],
    ['status alone is not a field change', { statusId: 2 }, { statusId: 1 }, []],
  ])('%s', (_label, before, after, expected) => {
    expect(changedDocumentFields(doc(before), doc(after))).toEqual(expected);
  });

  test('tolerates missing fields objects', () => {
    const before = { ...doc(), fields: undefined as unknown as Record<string, unknown> };
    expect(changedDocumentFields(before, doc())).toEqual(['body', 'n']);
  });
});

describe('documentEvents', () => {
  test('insert: one document_create with the status', () => {
    expect(documentEvents('insert', undefined, doc({ statusId: 0 }), ctx)).toEqual([
      { projectId: PROJECT, trigger: WebhookTrigger.DOCUMENT_CREATE, blueprintId: BLUEPRINT, metadata: docMeta(0), context: docContext },
    ]);
  });

  test('remove: one document_delete with the last status', () => {
    expect(documentEvents('remove', doc({ statusId: 2 }), undefined, ctx)).toEqual([
      { projectId: PROJECT, trigger: WebhookTrigger.DOCUMENT_DELETE, blueprintId: BLUEPRINT, metadata: docMeta(2), context: docContext },
    ]);
  });

  test('update, status only: one document_update with the new status', () => {
    expect(documentEvents('update', doc({ statusId: 0 }), doc({ statusId: 2 }), ctx)).toEqual([
      { projectId: PROJECT, trigger: WebhookTrigger.DOCUMENT_UPDATE, blueprintId: BLUEPRINT, metadata: docMeta(2), context: docContext },
    ]);
  });

  test('update, fields only: one document_field_update with changed_fields', () => {
    expect(documentEvents('update', doc(), doc({ fields: { body: 'y', n: 1 } }), ctx)).toEqual([
      {
        projectId: PROJECT,
        trigger: WebhookTrigger.DOCUMENT_FIELD_UPDATE,
        blueprintId: BLUEPRINT,
        metadata: { ...docMeta(0), changed_fields: ['body'] },
        context: docContext,
      },
    ]);
  });

  test('update, both (a PUBLISHED document becoming CHANGED): field update first, then status update', () => {
    const events = documentEvents('update', doc({ statusId: 2 }), doc({ statusId: 1, title: 'New', fields: { body: 'y', n: 1 } }), ctx);
    expect(events).toEqual([
      {
        projectId: PROJECT,
        trigger: WebhookTrigger.DOCUMENT_FIELD_UPDATE,
        blueprintId: BLUEPRINT,
        metadata: { ...docMeta(1), changed_fields: ['title', 'body'] },
        context: { document: { title: 'New' } },
      },
      // The title after the save: what the receiver would read now.
      { projectId: PROJECT, trigger: WebhookTrigger.DOCUMENT_UPDATE, blueprintId: BLUEPRINT, metadata: docMeta(1), context: { document: { title: 'New' } } },
    ]);
    expect(events[1].metadata).not.toHaveProperty('changed_fields');
  });

  test('update, no change: no event', () => {
    expect(documentEvents('update', doc(), doc(), ctx)).toEqual([]);
  });

  test('update without one of the snapshots: no event', () => {
    expect(documentEvents('update', undefined, doc(), ctx)).toEqual([]);
    expect(documentEvents('update', doc(), undefined, ctx)).toEqual([]);
  });

  test('created_at is the ISO time of the change; no actor means no triggered_user_id', () => {
    const [event] = documentEvents('insert', undefined, doc(), { actorId: null, now });
    expect(event.metadata.created_at).toBe('2026-05-06T07:08:09.123Z');
    expect(event.metadata).not.toHaveProperty('triggered_user_id');
  });
});

describe('blueprintEvents', () => {
  const meta = { blueprint_id: BLUEPRINT, document_id: '', document_status_id: null, created_at: now.toISOString(), triggered_user_id: 'actor-1' };

  test.each([
    ['insert', undefined, bp(), WebhookTrigger.BLUEPRINT_CREATE],
    ['remove', bp(), undefined, WebhookTrigger.BLUEPRINT_DELETE],
    ['update', bp(), bp({ name: 'Article' }), WebhookTrigger.BLUEPRINT_UPDATE],
  ] as const)('%s → %s', (kind, before, after, trigger) => {
    const names = (after ?? before)!;
    const context = { blueprint: { name: names.name, api_name: names.apiName } };
    expect(blueprintEvents(kind, before, after, ctx)).toEqual([{ projectId: PROJECT, trigger, blueprintId: BLUEPRINT, metadata: meta, context }]);
  });

  test.each<[string, Partial<BlueprintSnapshot>]>([
    ['name', { name: 'Article' }],
    ['apiName', { apiName: 'article' }],
    ['variant', { variant: 'COMPONENT' }],
    ['fields (a type changed)', { fields: [{ id: 'f1', name: 'body', type: 'string' }] }],
    ['fields (one added)', { fields: [{ id: 'f1', name: 'body', type: 'richtext' }, { id: 'f2', name: 'n', type: 'number' }] }],
  ])('update of %s fires blueprint_update', (_label, change) => {
    const events = blueprintEvents('update', bp(), bp(change), ctx);
    expect(events.map((e) => e.trigger)).toEqual([WebhookTrigger.BLUEPRINT_UPDATE]);
  });

  test('update that changes nothing (deep equal fields) fires nothing', () => {
    expect(blueprintEvents('update', bp(), bp({ fields: [{ id: 'f1', name: 'body', type: 'richtext' }] }), ctx)).toEqual([]);
  });
});

describe('memberEvents', () => {
  const meta = (role: string) => ({
    blueprint_id: '',
    document_id: '',
    document_status_id: null,
    user_id: 'user-1',
    role,
    created_at: now.toISOString(),
    triggered_user_id: 'actor-1',
  });

  test('insert: project_member_assigned with the role lower-cased', () => {
    expect(memberEvents('insert', undefined, member({ role: 'EDITOR' }), ctx)).toEqual([
      { projectId: PROJECT, trigger: WebhookTrigger.PROJECT_MEMBER_ASSIGNED, blueprintId: null, metadata: meta('editor'), context: null },
    ]);
  });

  test('update with a new role: project_member_assigned with the new role', () => {
    expect(memberEvents('update', member({ role: 'EDITOR' }), member({ role: 'ADMIN' }), ctx)).toEqual([
      { projectId: PROJECT, trigger: WebhookTrigger.PROJECT_MEMBER_ASSIGNED, blueprintId: null, metadata: meta('admin'), context: null },
    ]);
  });

  test('update with the same role: nothing', () => {
    expect(memberEvents('update', member(), member(), ctx)).toEqual([]);
  });

  test('remove: project_member_deassigned carrying the old role lower-cased', () => {
    expect(memberEvents('remove', member({ role: 'VIEWER' }), undefined, ctx)).toEqual([
      { projectId: PROJECT, trigger: WebhookTrigger.PROJECT_MEMBER_DEASSIGNED, blueprintId: null, metadata: meta('viewer'), context: null },
    ]);
  });

  test('without an actor there is no triggered_user_id', () => {
    const [event] = memberEvents('insert', undefined, member(), { actorId: null, now });
    expect(event.metadata).not.toHaveProperty('triggered_user_id');
    expect(event.metadata.created_at).toBe(now.toISOString());
  });
});
