import { WebhookTrigger } from '../webhooks/triggers';
import { webhookMatchesEvent } from './fanout.service';

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
