import { Field, ID, Int, ObjectType, registerEnumType, Float } from 'type-graphql';
import { maskSecret } from '../common/mask';
import { Connection } from '../graphql/page.type';
import { HttpHeaderType } from '../webhook-calls/webhook-call.type';
import type { WebhookCall } from '../webhook-calls/webhook-call.entity';
import type { Webhook } from '../webhooks/webhook.entity';
import { WebhookHeaderType } from '../webhooks/webhook.type';
import { WebhookHealthEventType, WebhookHealthState } from './health.constants';

registerEnumType(WebhookHealthState, {
  name: 'WebhookHealthState',
  description: 'HEALTHY; FAILING (failed calls passed a threshold); DISABLE_WARNING (auto-disable may strike soon); DISABLED (disabled automatically)',
});
registerEnumType(WebhookHealthEventType, {
  name: 'WebhookHealthEventType',
  description: 'The `type` of a notification: webhook.failing, webhook.disable_warning, webhook.disabled, webhook.recovered',
});

@ObjectType('WebhookHealth', { description: "A webhook's health, kept as its calls are logged" })
export class WebhookHealthType {
  @Field(() => WebhookHealthState)
  state: WebhookHealthState;

  @Field(() => String, { nullable: true, description: 'Why it is in this state' })
  reason: string | null;

  @Field(() => Date, { nullable: true, description: 'When it entered this state; null if it never left HEALTHY' })
  changedAt: Date | null;

  @Field(() => Int, { description: 'Failed calls since the last success' })
  consecutiveFailures: number;

  @Field(() => Date, { nullable: true, description: 'When the current run of failed calls began' })
  failingSince: Date | null;

  @Field(() => Float, { nullable: true, description: 'The failure rate (0 to 1) that made it FAILING, when that rule did' })
  failureRate: number | null;

  @Field(() => Date, { nullable: true, description: 'DISABLE_WARNING: from when a delivery that fails for good disables it' })
  willDisableAt: Date | null;
}

export function toWebhookHealthType(webhook: Webhook): WebhookHealthType {
  return {
    state: webhook.healthState,
    reason: webhook.healthReason,
    changedAt: webhook.healthChangedAt,
    consecutiveFailures: webhook.consecutiveFailures,
    failingSince: webhook.failingSince,
    failureRate: webhook.healthFailureRate,
    willDisableAt: webhook.healthWillDisableAt,
  };
}

@ObjectType('WebhookHealthChange', { description: "A change of a webhook's health state" })
export class WebhookHealthChangeType {
  @Field(() => ID, { description: 'Also the event_id of the notification sent for it' })
  id: string;

  @Field(() => ID)
  projectId: string;

  @Field(() => ID)
  webhookId: string;

  @Field({ description: "The webhook's name at the time" })
  webhookName: string;

  @Field(() => WebhookHealthEventType, { nullable: true, description: 'The notification sent to endpoints; null when none is (enabled again after being disabled)' })
  type: WebhookHealthEventType | null;

  @Field(() => WebhookHealthState)
  previousState: WebhookHealthState;

  @Field(() => WebhookHealthState)
  state: WebhookHealthState;

  @Field(() => String, { nullable: true })
  reason: string | null;

  @Field(() => Int)
  consecutiveFailures: number;

  @Field(() => Float, { nullable: true })
  failureRate: number | null;

  @Field(() => Date, { nullable: true })
  failingSince: Date | null;

  @Field(() => Date, { nullable: true })
  willDisableAt: Date | null;

  @Field()
  at: Date;
}

@ObjectType('NotificationEndpoint', { description: "Receives the project's webhook health changes as signed requests (ADMIN and up)" })
export class NotificationEndpointType {
  @Field(() => ID)
  id: string;

  @Field(() => ID)
  projectId: string;

  @Field()
  name: string;

  @Field(() => String, { nullable: true })
  description: string | null;

  @Field()
  url: string;

  @Field(() => [WebhookHealthEventType], { description: 'The health events it receives' })
  types: WebhookHealthEventType[];

  @Field(() => [WebhookHeaderType])
  headers: WebhookHeaderType[];

  @Field()
  enabled: boolean;

  @Field(() => String, { nullable: true })
  disabledReason: string | null;

  @Field({ description: 'Standard Webhooks secret (whsec_…) that signs every notification' })
  signingSecret: string;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;
}

/** Secret header values are masked here, as for webhooks. */
export function toNotificationEndpointType(endpoint: Webhook): NotificationEndpointType {
  return {
    id: endpoint.id,
    projectId: endpoint.projectId,
    name: endpoint.name,
    description: endpoint.description,
    url: endpoint.url,
    types: (endpoint.notificationTypes ?? []) as WebhookHealthEventType[],
    headers: endpoint.headers.map((h) => ({ name: h.name, value: h.secret ? maskSecret(h.value) : h.value, secret: h.secret })),
    enabled: endpoint.enabled,
    disabledReason: endpoint.disabledReason,
    signingSecret: endpoint.signingSecret,
    createdAt: endpoint.createdAt,
    updatedAt: endpoint.updatedAt,
  };
}

@ObjectType('NotificationCall', { description: 'One HTTP attempt to a notification endpoint' })
export class NotificationCallType {
  @Field(() => ID)
  id: string;

  @Field(() => ID)
  endpointId: string;

  @Field(() => ID)
  projectId: string;

  @Field(() => ID, { description: 'The event_id (webhook-id) of the notification: the health change it announces' })
  eventId: string;

  @Field(() => WebhookHealthEventType)
  type: WebhookHealthEventType;

  @Field(() => Int)
  attempt: number;

  @Field()
  success: boolean;

  @Field(() => String, { nullable: true })
  error: string | null;

  @Field(() => Int)
  durationMs: number;

  @Field(() => Date, { nullable: true })
  nextRetryAt: Date | null;

  @Field()
  createdAt: Date;

  @Field()
  requestUrl: string;

  @Field(() => [HttpHeaderType], { description: 'As sent; secret header values masked' })
  requestHeaders: HttpHeaderType[];

  @Field()
  requestBody: string;

  @Field(() => Int, { nullable: true })
  responseStatusCode: number | null;

  @Field(() => String, { nullable: true })
  responseBody: string | null;
}

@ObjectType('NotificationCallConnection')
export class NotificationCallConnection extends Connection(NotificationCallType, 'NotificationCall') {}

export function toNotificationCallType(call: WebhookCall): NotificationCallType {
  return {
    id: call.id,
    endpointId: call.webhookId,
    projectId: call.projectId,
    eventId: call.eventId,
    type: call.trigger as string as WebhookHealthEventType,
    attempt: call.attempt,
    success: call.success,
    error: call.error,
    durationMs: call.durationMs,
    nextRetryAt: call.nextRetryAt,
    createdAt: call.createdAt,
    requestUrl: call.requestUrl,
    requestHeaders: call.requestHeaders.map((h) => ({ name: h.name, value: h.value })),
    requestBody: call.requestBody,
    responseStatusCode: call.responseStatusCode,
    responseBody: call.responseBody,
  };
}
