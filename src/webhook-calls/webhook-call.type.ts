import { Field, ID, Int, ObjectType } from 'type-graphql';
import { WebhookCallKind } from '../delivery/delivery.entity';
import type { WebhookCall } from './webhook-call.entity';
import { Connection } from '../graphql/page.type';
import { HttpMethod, WebhookTrigger } from '../webhooks/triggers';
import type { WebhookCallFilterData } from './webhook-call.service';

@ObjectType('HttpHeader')
export class HttpHeaderType {
  @Field()
  name: string;

  @Field()
  value: string;
}

@ObjectType('WebhookCall', { description: 'One HTTP attempt of a webhook: the request as sent, the response as received' })
export class WebhookCallType {
  @Field(() => ID)
  id: string;

  @Field(() => ID)
  webhookId: string;

  @Field(() => ID)
  projectId: string;

  @Field(() => ID, { description: 'The event_id receivers saw; the same for every retry and replay' })
  eventId: string;

  @Field(() => WebhookTrigger)
  trigger: WebhookTrigger;

  @Field(() => WebhookCallKind)
  kind: WebhookCallKind;

  @Field(() => Int, { description: '1 for the first attempt of a delivery' })
  attempt: number;

  @Field()
  success: boolean;

  @Field(() => String, { nullable: true, description: 'Why the attempt failed: timeout, refused, blocked address, non-2xx' })
  error: string | null;

  @Field(() => Int)
  durationMs: number;

  @Field(() => Date, { nullable: true, description: 'When the next attempt is due; null when none will follow' })
  nextRetryAt: Date | null;

  @Field()
  createdAt: Date;

  @Field(() => HttpMethod)
  requestMethod: HttpMethod;

  @Field()
  requestUrl: string;

  @Field(() => [HttpHeaderType], { description: 'As sent; secret header values masked' })
  requestHeaders: HttpHeaderType[];

  @Field({ description: 'The exact body sent' })
  requestBody: string;

  @Field(() => Int, { nullable: true, description: 'Null when no response arrived' })
  responseStatusCode: number | null;

  @Field(() => [HttpHeaderType], { nullable: true })
  responseHeaders: HttpHeaderType[] | null;

  @Field(() => String, { nullable: true, description: 'Capped at 64 KiB' })
  responseBody: string | null;

  @Field({ description: 'A ready-to-paste curl command that re-sends this request (secret values masked)' })
  curl: string;
}

/** What the connection resolver keeps for `totalCount`, which runs only when selected. */
export interface WebhookCallCountQuery {
  projectId: string;
  filter: WebhookCallFilterData | null | undefined;
}

@ObjectType('WebhookCallConnection')
export class WebhookCallConnection extends Connection(WebhookCallType, 'WebhookCall') {
  @Field(() => Int, { description: 'Calls matching the filter; computed only when asked for' })
  totalCount: number;

  /** Not a GraphQL field. */
  countQuery: WebhookCallCountQuery;
}

/** The only way a log row becomes a GraphQL object: nothing is copied that the type does not list. */
export function toWebhookCallType(call: WebhookCall): Omit<WebhookCallType, 'curl'> {
  return {
    id: call.id,
    webhookId: call.webhookId,
    projectId: call.projectId,
    eventId: call.eventId,
    trigger: call.trigger,
    kind: call.kind,
    attempt: call.attempt,
    success: call.success,
    error: call.error,
    durationMs: call.durationMs,
    nextRetryAt: call.nextRetryAt,
    createdAt: call.createdAt,
    requestMethod: call.requestMethod as HttpMethod,
    requestUrl: call.requestUrl,
    requestHeaders: call.requestHeaders.map((h) => ({ name: h.name, value: h.value })),
    requestBody: call.requestBody,
    responseStatusCode: call.responseStatusCode,
    responseHeaders: call.responseHeaders?.map((h) => ({ name: h.name, value: h.value })) ?? null,
    responseBody: call.responseBody,
  };
}
