import { registerEnumType } from 'type-graphql';
import { BlueprintVariant } from '../cms/blueprint.entity';
import { DocumentStatus } from '../cms/document.entity';
import { ProjectRole } from '../cms/roles';
import { BodyFormat } from '../delivery/body-template';
import { WebhookCallKind } from '../delivery/delivery.entity';
import { HttpMethod, WebhookTrigger } from '../webhooks/triggers';
import { ActorFilterMode } from '../webhooks/webhook-filters';

registerEnumType(WebhookTrigger, { name: 'WebhookTrigger', description: 'What a webhook listens to' });
registerEnumType(HttpMethod, { name: 'HttpMethod' });
registerEnumType(DocumentStatus, { name: 'DocumentStatus', description: 'DRAFT (0), CHANGED (1: published, edited since), PUBLISHED (2), ARCHIVED (3)' });
registerEnumType(ProjectRole, { name: 'ProjectRole' });
registerEnumType(BlueprintVariant, { name: 'BlueprintVariant' });
registerEnumType(WebhookCallKind, { name: 'WebhookCallKind', description: 'EVENT: caused by a CMS change (retries keep this kind); REPLAY; TEST' });
registerEnumType(ActorFilterMode, { name: 'ActorFilterMode', description: 'INCLUDE: only changes by the listed users or tokens; EXCLUDE: all but those' });
registerEnumType(BodyFormat, {
  name: 'WebhookBodyFormat',
  description: 'JSON: the template is JSON, its string values hold placeholders; TEXT: the template is text with placeholders',
});
