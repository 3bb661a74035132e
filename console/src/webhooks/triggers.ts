import type { HttpMethod, WebhookTrigger } from '../generated/graphql';

/** The actions as the product documentation names them, each with when its event is sent (contract/README.md). */
export const TRIGGERS: ReadonlyArray<{ value: WebhookTrigger; label: string; sentWhen: string }> = [
  {
    value: 'DOCUMENT_FIELD_UPDATE',
    label: 'Document field update',
    sentWhen: 'A save changes the document\u2019s title or any field: one event per save, listing the changed fields.',
  },
  { value: 'DOCUMENT_CREATE', label: 'Document create', sentWhen: 'A document is created.' },
  {
    value: 'DOCUMENT_UPDATE',
    label: 'Document update',
    sentWhen: 'A document\u2019s status changes: publish, unpublish, archive, or a published document edited. Not for field edits alone.',
  },
  { value: 'DOCUMENT_DELETE', label: 'Document delete', sentWhen: 'A document is deleted.' },
  { value: 'BLUEPRINT_CREATE', label: 'Blueprint create', sentWhen: 'A blueprint is created.' },
  { value: 'BLUEPRINT_UPDATE', label: 'Blueprint update', sentWhen: 'A blueprint is changed in any way, its fields included.' },
  { value: 'BLUEPRINT_DELETE', label: 'Blueprint delete', sentWhen: 'A blueprint is deleted.' },
  { value: 'PROJECT_MEMBER_ASSIGNED', label: 'Project member assigned', sentWhen: 'A user is added to the project, or their role changes.' },
  { value: 'PROJECT_MEMBER_DEASSIGNED', label: 'Project member deassigned', sentWhen: 'A user is removed from the project.' },
];

const LABELS = new Map(TRIGGERS.map((t) => [t.value, t.label]));

export function triggerLabel(trigger: WebhookTrigger): string {
  return LABELS.get(trigger) ?? trigger;
}

export const METHODS: readonly HttpMethod[] = ['POST', 'PUT', 'PATCH', 'GET', 'DELETE'];
