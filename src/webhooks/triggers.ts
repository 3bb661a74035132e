/**
 * The nine things a webhook can listen to. The enum's keys are the GraphQL names, its values
 * the lower-case names used in storage and in the webhook payload (`webhook.trigger`).
 */
export enum WebhookTrigger {
  DOCUMENT_FIELD_UPDATE = 'document_field_update',
  DOCUMENT_CREATE = 'document_create',
  DOCUMENT_UPDATE = 'document_update',
  DOCUMENT_DELETE = 'document_delete',
  BLUEPRINT_CREATE = 'blueprint_create',
  BLUEPRINT_UPDATE = 'blueprint_update',
  BLUEPRINT_DELETE = 'blueprint_delete',
  PROJECT_MEMBER_ASSIGNED = 'project_member_assigned',
  PROJECT_MEMBER_DEASSIGNED = 'project_member_deassigned',
}

export const ALL_TRIGGERS: readonly WebhookTrigger[] = Object.values(WebhookTrigger);

/** Member events are not about a blueprint, so a webhook's blueprint filter never hides them. */
export function isMemberTrigger(trigger: WebhookTrigger): boolean {
  return trigger === WebhookTrigger.PROJECT_MEMBER_ASSIGNED || trigger === WebhookTrigger.PROJECT_MEMBER_DEASSIGNED;
}

/** Document events carry a document status (and a statuses filter applies to them only). */
export function isDocumentTrigger(trigger: WebhookTrigger): boolean {
  return (
    trigger === WebhookTrigger.DOCUMENT_CREATE ||
    trigger === WebhookTrigger.DOCUMENT_UPDATE ||
    trigger === WebhookTrigger.DOCUMENT_FIELD_UPDATE ||
    trigger === WebhookTrigger.DOCUMENT_DELETE
  );
}

export enum HttpMethod {
  GET = 'GET',
  POST = 'POST',
  PUT = 'PUT',
  PATCH = 'PATCH',
  DELETE = 'DELETE',
}
