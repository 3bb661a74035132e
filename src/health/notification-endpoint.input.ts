import { Field, InputType } from 'type-graphql';
import { WebhookHeaderInput } from '../webhooks/webhook.input';
import { WebhookHealthEventType } from './health.constants';

@InputType()
export class NotificationEndpointInput {
  @Field(() => String, { nullable: true, description: 'Default "Notifications"' })
  name?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field()
  url: string;

  @Field(() => [WebhookHealthEventType], { nullable: true, description: 'Default: every type' })
  types?: WebhookHealthEventType[] | null;

  @Field(() => [WebhookHeaderInput], { nullable: true })
  headers?: WebhookHeaderInput[] | null;

  @Field(() => Boolean, { nullable: true, defaultValue: true })
  enabled?: boolean | null;
}

@InputType()
export class NotificationEndpointUpdateInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => String, { nullable: true })
  url?: string | null;

  @Field(() => [WebhookHealthEventType], { nullable: true })
  types?: WebhookHealthEventType[] | null;

  @Field(() => [WebhookHeaderInput], { nullable: true, description: 'Replaces the list; a header without value keeps its stored one' })
  headers?: WebhookHeaderInput[] | null;

  @Field(() => Boolean, { nullable: true })
  enabled?: boolean | null;
}
