import { Field, ID, InputType } from 'type-graphql';
import { WebhookCallKind } from '../delivery/delivery.entity';
import { WebhookTrigger } from '../webhooks/triggers';
import type { WebhookCallFilterData } from './webhook-call.service';

@InputType('WebhookCallFilter', { description: 'Every field given must match; `since` is inclusive, `until` exclusive' })
export class WebhookCallFilter implements WebhookCallFilterData {
  @Field(() => ID, { nullable: true })
  webhookId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Every attempt, retry, replay of one event' })
  eventId?: string | null;

  @Field(() => Boolean, { nullable: true })
  success?: boolean | null;

  @Field(() => WebhookTrigger, { nullable: true })
  trigger?: WebhookTrigger | null;

  @Field(() => WebhookCallKind, { nullable: true })
  kind?: WebhookCallKind | null;

  @Field(() => Date, { nullable: true, description: 'Calls logged at or after this instant' })
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Calls logged before this instant' })
  until?: Date | null;
}
