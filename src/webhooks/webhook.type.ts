import { Field, ID, Int, ObjectType } from 'type-graphql';
import { maskSecret } from '../common/mask';
import { HttpMethod, WebhookTrigger } from './triggers';
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

  @Field()
  enabled: boolean;

  @Field(() => String, { nullable: true })
  disabledReason: string | null;

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
    enabled: webhook.enabled,
    disabledReason: webhook.disabledReason,
    signingSecret: webhook.signingSecret,
    createdAt: webhook.createdAt,
    updatedAt: webhook.updatedAt,
    health: toWebhookHealthType(webhook),
  };
}
