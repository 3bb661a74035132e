import { WebhookTrigger } from '../webhooks/triggers';
import fc from 'fast-check';
import { DocumentStatus } from '../cms/document.entity';
import { exceedsCausalDepth, type MatchableEvent, webhookMatchesEvent } from './fanout.service';

const B1 = '11111111-1111-4111-8111-111111111111';
const B2 = '22222222-2222-4222-8222-222222222222';

describe('webhookMatchesEvent', () => {
  const all = { triggers: Object.values(WebhookTrigger), blueprintIds: null };

  it('requires the trigger to be subscribed', () => {
    const webhook = { triggers: [WebhookTrigger.DOCUMENT_CREATE], blueprintIds: null };
    expect(webhookMatchesEvent(webhook, { trigger: WebhookTrigger.DOCUMENT_CREATE, blueprintId: B1 })).toBe(true);
    expect(webhookMatchesEvent(webhook, { trigger: WebhookTrigger.DOCUMENT_UPDATE, blueprintId: B1 })).toBe(false);
  });

  it('passes every blueprint when blueprintIds is null', () => {
    expect(webhookMatchesEvent(all, { trigger: WebhookTrigger.BLUEPRINT_DELETE, blueprintId: B2 })).toBe(true);
  });

  it('filters document and blueprint events by blueprint', () => {
    const webhook = { ...all, blueprintIds: [B1] };
    expect(webhookMatchesEvent(webhook, { trigger: WebhookTrigger.DOCUMENT_FIELD_UPDATE, blueprintId: B1 })).toBe(true);
    expect(webhookMatchesEvent(webhook, { trigger: WebhookTrigger.DOCUMENT_FIELD_UPDATE, blueprintId: B2 })).toBe(false);
    expect(webhookMatchesEvent(webhook, { trigger: WebhookTrigger.BLUEPRINT_UPDATE, blueprintId: B1 })).toBe(true);
    expect(webhookMatchesEvent(webhook, { trigger: WebhookTrigger.BLUEPRINT_CREATE, blueprintId: B2 })).toBe(false);
  });

  it('always passes member events through a blueprint filter, even an empty one', () => {
    for (const blueprintIds of [[B1], []]) {
      const webhook = { ...all, blueprintIds };
      expect(webhookMatchesEvent(webhook, { trigger: WebhookTrigger.PROJECT_MEMBER_ASSIGNED, blueprintId: null })).toBe(true);
      expect(webhookMatchesEvent(webhook, { trigger: WebhookTrigger.PROJECT_MEMBER_DEASSIGNED, blueprintId: null })).toBe(true);
    }
  });

  it('takes an empty blueprint list literally: no blueprint passes', () => {
    expect(webhookMatchesEvent({ ...all, blueprintIds: [] }, { trigger: WebhookTrigger.DOCUMENT_CREATE, blueprintId: B1 })).toBe(false);
  });

  it('never lets a blueprint-less non-member event through a filter', () => {
    expect(webhookMatchesEvent({ ...all, blueprintIds: [B1] }, { trigger: WebhookTrigger.DOCUMENT_CREATE, blueprintId: null })).toBe(false);
  });
});

describe('webhookMatchesEvent: content filters', () => {
  const U1 = '33333333-3333-4333-8333-333333333333';
  const U2 = '44444444-4444-4444-8444-444444444444';
  const T1 = '55555555-5555-4555-8555-555555555555';
  const W1 = '66666666-6666-4666-8666-666666666666';
  const all = { id: W1, triggers: Object.values(WebhookTrigger), blueprintIds: null };
  const doc = (trigger: WebhookTrigger, status: number | null, extra: Partial<MatchableEvent> & { changed?: string[]; user?: string } = {}): MatchableEvent => ({
    trigger,
    blueprintId: B1,
    metadata: { document_status_id: status, changed_fields: extra.changed, triggered_user_id: extra.user },
    actorTokenId: extra.actorTokenId ?? null,
    loopOrigins: extra.loopOrigins ?? null,
  });

  it('documentStatuses: a document event passes only with a listed status', () => {
    const webhook = { ...all, documentStatuses: [DocumentStatus.PUBLISHED] };
    expect(webhookMatchesEvent(webhook, doc(WebhookTrigger.DOCUMENT_UPDATE, DocumentStatus.PUBLISHED))).toBe(true);
    expect(webhookMatchesEvent(webhook, doc(WebhookTrigger.DOCUMENT_UPDATE, DocumentStatus.DRAFT))).toBe(false);
    expect(webhookMatchesEvent(webhook, doc(WebhookTrigger.DOCUMENT_CREATE, DocumentStatus.DRAFT))).toBe(false);
    expect(webhookMatchesEvent(webhook, doc(WebhookTrigger.DOCUMENT_DELETE, DocumentStatus.PUBLISHED))).toBe(true);
  });

  it('documentStatuses: blueprint and member events carry no document and pass', () => {
    const webhook = { ...all, documentStatuses: [DocumentStatus.PUBLISHED] };
    expect(webhookMatchesEvent(webhook, { trigger: WebhookTrigger.BLUEPRINT_UPDATE, blueprintId: B1, metadata: { document_status_id: null } })).toBe(true);
    expect(webhookMatchesEvent(webhook, { trigger: WebhookTrigger.PROJECT_MEMBER_ASSIGNED, blueprintId: null })).toBe(true);
  });

  it('changedFields: a field update passes only when a listed name changed; title counts', () => {
    const webhook = { ...all, changedFields: ['title', 'slug'] };
    expect(webhookMatchesEvent(webhook, doc(WebhookTrigger.DOCUMENT_FIELD_UPDATE, 0, { changed: ['body', 'slug'] }))).toBe(true);
    expect(webhookMatchesEvent(webhook, doc(WebhookTrigger.DOCUMENT_FIELD_UPDATE, 0, { changed: ['title'] }))).toBe(true);
    expect(webhookMatchesEvent(webhook, doc(WebhookTrigger.DOCUMENT_FIELD_UPDATE, 0, { changed: ['body'] }))).toBe(false);
    expect(webhookMatchesEvent(webhook, doc(WebhookTrigger.DOCUMENT_FIELD_UPDATE, 0, {}))).toBe(false);
  });

  it('changedFields: other triggers pass', () => {
    const webhook = { ...all, changedFields: ['slug'] };
    expect(webhookMatchesEvent(webhook, doc(WebhookTrigger.DOCUMENT_UPDATE, 2))).toBe(true);
    expect(webhookMatchesEvent(webhook, doc(WebhookTrigger.DOCUMENT_CREATE, 0))).toBe(true);
  });

  it('actorFilter INCLUDE: only listed users or tokens', () => {
    const byUser = { ...all, actorFilter: { mode: 'INCLUDE' as const, userIds: [U1], tokenIds: [] } };
    expect(webhookMatchesEvent(byUser, doc(WebhookTrigger.DOCUMENT_CREATE, 0, { user: U1 }))).toBe(true);
    expect(webhookMatchesEvent(byUser, doc(WebhookTrigger.DOCUMENT_CREATE, 0, { user: U2 }))).toBe(false);
    expect(webhookMatchesEvent(byUser, doc(WebhookTrigger.DOCUMENT_CREATE, 0, {}))).toBe(false);
    const byToken = { ...all, actorFilter: { mode: 'INCLUDE' as const, userIds: [], tokenIds: [T1] } };
    expect(webhookMatchesEvent(byToken, doc(WebhookTrigger.DOCUMENT_CREATE, 0, { user: U2, actorTokenId: T1 }))).toBe(true);
    expect(webhookMatchesEvent(byToken, doc(WebhookTrigger.DOCUMENT_CREATE, 0, { user: U2 }))).toBe(false);
  });

  it('actorFilter EXCLUDE: all but listed users or tokens; an unknown actor passes', () => {
    const webhook = { ...all, actorFilter: { mode: 'EXCLUDE' as const, userIds: [U1], tokenIds: [T1] } };
    expect(webhookMatchesEvent(webhook, doc(WebhookTrigger.DOCUMENT_CREATE, 0, { user: U1 }))).toBe(false);
    expect(webhookMatchesEvent(webhook, doc(WebhookTrigger.DOCUMENT_CREATE, 0, { user: U2, actorTokenId: T1 }))).toBe(false);
    expect(webhookMatchesEvent(webhook, doc(WebhookTrigger.DOCUMENT_CREATE, 0, { user: U2 }))).toBe(true);
    expect(webhookMatchesEvent(webhook, doc(WebhookTrigger.DOCUMENT_CREATE, 0, {}))).toBe(true);
    // Member events have an actor too: the filter applies to them.
    expect(webhookMatchesEvent(webhook, { trigger: WebhookTrigger.PROJECT_MEMBER_ASSIGNED, blueprintId: null, metadata: { document_status_id: null, triggered_user_id: U1 } })).toBe(false);
  });

  it('loopOrigins: a webhook never gets what its own delivery caused; others do', () => {
    expect(webhookMatchesEvent(all, doc(WebhookTrigger.DOCUMENT_CREATE, 0, { loopOrigins: [W1] }))).toBe(false);
    expect(webhookMatchesEvent(all, doc(WebhookTrigger.DOCUMENT_CREATE, 0, { loopOrigins: [B2] }))).toBe(true);
    expect(webhookMatchesEvent(all, doc(WebhookTrigger.DOCUMENT_CREATE, 0, { loopOrigins: [] }))).toBe(true);
  });

  it('exceedsCausalDepth: depth up to the maximum is delivered, beyond it not', () => {
    expect(exceedsCausalDepth(0, 3)).toBe(false);
    expect(exceedsCausalDepth(3, 3)).toBe(false);
    expect(exceedsCausalDepth(4, 3)).toBe(true);
    expect(exceedsCausalDepth(1, 0)).toBe(true);
  });

  it('property: a webhook whose filters are all null matches exactly as one without them', () => {
    const id = fc.uuid();
    const triggers = fc.subarray(Object.values(WebhookTrigger));
    fc.assert(
      fc.property(
        triggers,
        fc.option(fc.array(fc.constantFrom(B1, B2)), { nil: null }),
        fc.constantFrom(...Object.values(WebhookTrigger)),
        fc.option(fc.constantFrom(B1, B2), { nil: null }),
        fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
        fc.option(fc.array(fc.string()), { nil: undefined }),
        fc.option(id, { nil: undefined }),
        fc.option(id, { nil: null }),
        (subscribed, blueprintIds, trigger, blueprintId, status, changed, user, token) => {
          const plain = { triggers: subscribed, blueprintIds };
          const nulls = { ...plain, id: W1, documentStatuses: null, changedFields: null, actorFilter: null };
          const event = { trigger, blueprintId };
          const full = { ...event, metadata: { document_status_id: status, changed_fields: changed, triggered_user_id: user }, actorTokenId: token, loopOrigins: null };
          const before = webhookMatchesEvent(plain, event);
          expect(webhookMatchesEvent(nulls, full)).toBe(before);
          expect(webhookMatchesEvent(plain, full)).toBe(before);
        },
      ),
    );
  });
});
