import { Field, ID, Int, ObjectType } from 'type-graphql';
import { maskSecret } from '../common/mask';
import { DocumentStatus } from '../cms/document.entity';
import { BodyFormat } from '../delivery/body-template';
import { contentTypeOf } from '../delivery/body';
import { HttpMethod, WebhookTrigger } from './triggers';
import { ActorFilterMode } from './webhook-filters';

@ObjectType('WebhookActorFilter')
export class WebhookActorFilterType {
  @Field(() => ActorFilterMode)
  mode: ActorFilterMode;

  @Field(() => [ID])
  userIds: string[];

  @Field(() => [ID])
  tokenIds: string[];
}
import type { Webhook } from './webhook.entity';
import { toWebhookHealthType, WebhookHealthType } from '../health/health.type';

@ObjectType('WebhookHeader')
export class WebhookHeaderType {
  @Field()
  name: string;

  @Field({ description: 'Masked (e.g. ••••3gat) when the header is secret' })
  value: string;

  @Field()
  secret: boolean;
}

@ObjectType('Webhook')
export class WebhookType {
  @Field(() => ID)
  id: string;

  @Field(() => ID)
  projectId: string;

  @Field()
  name: string;

  @Field(() => String, { nullable: true })
  description: string | null;

  @Field(() => HttpMethod)
  method: HttpMethod;

  @Field()
  url: string;

  @Field(() => [WebhookTrigger])
  triggers: WebhookTrigger[];

  @Field(() => [WebhookHeaderType])
  headers: WebhookHeaderType[];

  @Field(() => [ID], { nullable: true, description: 'Only events of these blueprints (and their documents); null = all' })
  blueprintIds: string[] | null;

  @Field(() => [DocumentStatus], { nullable: true, description: "Document events only: the document's status must be one of these; null = any" })
  documentStatuses: DocumentStatus[] | null;

  @Field(() => [String], { nullable: true, description: 'DOCUMENT_FIELD_UPDATE only: sent when one of these changed; null = any' })
  changedFields: string[] | null;

  @Field(() => WebhookActorFilterType, { nullable: true, description: 'Include or exclude changes by these users or tokens; null = anyone' })
  actorFilter: WebhookActorFilterType | null;

  @Field()
  enabled: boolean;

  @Field(() => String, { nullable: true, description: 'Sent instead of the contract payload; null = the contract payload' })
  bodyTemplate: string | null;

  @Field(() => BodyFormat)
  bodyFormat: BodyFormat;

  @Field({ description: 'The content-type requests carry (application/json without a template)' })
  bodyContentType: string;

  @Field(() => String, { nullable: true })
  disabledReason: string | null;

  @Field({ description: 'Requests carry a W3C traceparent header continuing the trace of the change (when the server traces)' })
  sendTraceContext: boolean;
  @Field({ description: 'Deliveries go out one at a time, in event order' })
  fifo: boolean;

  @Field({ description: 'Standard Webhooks secret (whsec_…) that signs every request' })
  signingSecret: string;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;

  @Field(() => WebhookHealthType, { description: 'HEALTHY, FAILING, DISABLE_WARNING or DISABLED, and why (README "Failure notifications")' })
  health: WebhookHealthType;

  @Field(() => Int)
  successfulCallsLast30Days: number;

  @Field(() => Int)
  failedCallsLast30Days: number;
}

/**
 * The only way a stored webhook becomes a GraphQL object: secret header values are masked
 * here, and nothing is copied that the type does not list.
 */
export function toWebhookType(webhook: Webhook): Omit<WebhookType, 'successfulCallsLast30Days' | 'failedCallsLast30Days'> {
  return {
    id: webhook.id,
    projectId: webhook.projectId,
    name: webhook.name,
    description: webhook.description,
    method: webhook.method,
    url: webhook.url,
    triggers: webhook.triggers,
    headers: webhook.headers.map((h) => ({ name: h.name, value: h.secret ? maskSecret(h.value) : h.value, secret: h.secret })),
    blueprintIds: webhook.blueprintIds,
    documentStatuses: webhook.documentStatuses,
    changedFields: webhook.changedFields,
    actorFilter: webhook.actorFilter && { ...webhook.actorFilter, mode: webhook.actorFilter.mode as ActorFilterMode },
    enabled: webhook.enabled,
    bodyTemplate: webhook.bodyTemplate,
    bodyFormat: webhook.bodyFormat,
    bodyContentType: contentTypeOf(webhook),
    disabledReason: webhook.disabledReason,
    sendTraceContext: webhook.sendTraceContext,
    fifo: webhook.fifo,
    signingSecret: webhook.signingSecret,
    createdAt: webhook.createdAt,
    updatedAt: webhook.updatedAt,
    health: toWebhookHealthType(webhook),
  };
}

@ObjectType('WebhookBodyPreview')
export class WebhookBodyPreviewType {
  @Field({ description: 'The body exactly as it would be sent' })
  body: string;

  @Field()
  contentType: string;

  @Field(() => ID, { description: 'The event rendered (a fresh id for a sample)' })
  eventId: string;

  @Field(() => WebhookTrigger)
  trigger: WebhookTrigger;

  @Field({ description: "True when no eventId was given: a sample event of the webhook's first trigger" })
  sample: boolean;
}
