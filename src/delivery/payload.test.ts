import { randomUUID } from 'node:crypto';
import sample from '../../contract/sample-payload.json';
import { assertValidPayload, keyPaths } from '../../test/delivery/contract';
import { ALL_TRIGGERS, WebhookTrigger } from '../webhooks/triggers';
import { buildPayloadBody, samplePayloadBody, sampleEvent } from './payload';

const sampleEventOf = {
  id: sample.event_id,
  projectId: sample.scope.project_id,
  trigger: WebhookTrigger.DOCUMENT_UPDATE,
  metadata: { ...sample.metadata, created_at: undefined as unknown as string },
};

describe('buildPayloadBody', () => {
  it('reproduces the documented sample byte for byte (modulo whitespace)', () => {
    const body = buildPayloadBody(sampleEventOf, sample.webhook.webhook_id);
    expect(body).toBe(JSON.stringify(sample));
    assertValidPayload(body);
  });

  it('orders metadata keys as documented whatever order the stored jsonb came back in', () => {
    const body = buildPayloadBody(
      {
        id: randomUUID(),
        projectId: randomUUID(),
        trigger: WebhookTrigger.DOCUMENT_FIELD_UPDATE,
        // jsonb returns keys sorted by length then bytes: deliberately scrambled here.
        metadata: {
          created_at: '2025-01-02T03:04:05.678Z',
          triggered_user_id: 'u1',
          changed_fields: ['title', 'body'],
          document_status_id: 1,
          document_id: 'd1',
          blueprint_id: 'b1',
        },
      },
      randomUUID(),
    );
    assertValidPayload(body);
    expect(keyPaths(JSON.parse(body))).toEqual([
      'event_id',
      'metadata',
      'metadata.blueprint_id',
      'metadata.document_id',
      'metadata.document_status_id',
      'metadata.changed_fields',
      'metadata.triggered_user_id',
      'metadata.created_at',
      'scope',
      'scope.project_id',
      'webhook',
      'webhook.trigger',
      'webhook.webhook_id',
    ]);
  });

  it('places member fields between changed_fields and triggered_user_id, and omits absent ones', () => {
    const body = buildPayloadBody(
      {
        id: randomUUID(),
        projectId: randomUUID(),
        trigger: WebhookTrigger.PROJECT_MEMBER_ASSIGNED,
        metadata: { role: 'admin', user_id: 'u2', document_status_id: null, document_id: '', blueprint_id: '', created_at: '2025-01-02T03:04:05.678Z' },
      },
      randomUUID(),
    );
    assertValidPayload(body);
    expect(Object.keys(JSON.parse(body).metadata)).toEqual([
      'blueprint_id',
      'document_id',
      'document_status_id',
      'user_id',
      'role',
      'created_at',
    ]);
  });
});

describe('samplePayloadBody', () => {
  it.each(ALL_TRIGGERS)('builds a valid sample %s event with a fresh event id', (trigger) => {
    const webhookId = randomUUID();
    const projectId = randomUUID();
    const first = JSON.parse(samplePayloadBody(trigger, webhookId, projectId, { triggeredUserId: 'someone' }));
    const second = JSON.parse(samplePayloadBody(trigger, webhookId, projectId));
    assertValidPayload(JSON.stringify(first));
    assertValidPayload(JSON.stringify(second));
    expect(first.event_id).not.toBe(second.event_id);
    expect(first.webhook).toEqual({ trigger, webhook_id: webhookId });
    expect(first.scope).toEqual({ project_id: projectId });
    expect(first.metadata.triggered_user_id).toBe('someone');
    expect(second.metadata.triggered_user_id).toBeUndefined();
  });

  it('fills the metadata each kind of event carries', () => {
    const projectId = randomUUID();
    expect(sampleEvent(WebhookTrigger.DOCUMENT_FIELD_UPDATE, projectId).metadata.changed_fields).toEqual(['title']);
    expect(sampleEvent(WebhookTrigger.BLUEPRINT_DELETE, projectId).metadata).toMatchObject({ document_id: '', document_status_id: null });
    expect(sampleEvent(WebhookTrigger.PROJECT_MEMBER_DEASSIGNED, projectId).metadata).toMatchObject({
      blueprint_id: '',
      document_id: '',
      role: 'editor',
    });
    expect(sampleEvent(WebhookTrigger.DOCUMENT_CREATE, projectId, { eventId: 'fixed' }).id).toBe('fixed');
  });
});
