import { Field, ID, Int, ObjectType } from 'type-graphql';
import { WebhookTrigger } from '../webhooks/triggers';

@ObjectType('WebhookEvent', { description: 'A committed event, as a webhook would get it' })
export class WebhookEventType {
  @Field(() => ID, { description: 'The event id: what its requests carry as webhook-id and event_id' })
  id: string;

  @Field(() => ID)
  projectId: string;

  @Field(() => ID, { nullable: true, description: 'The webhook whose triggers and blueprint filter were applied; null when none was given' })
  webhookId: string | null;

  @Field(() => WebhookTrigger)
  trigger: WebhookTrigger;

  @Field({ description: 'When the change was made' })
  createdAt: Date;

  @Field({
    description: 'The exact request body the webhook is sent (its body template rendered, if it has one); without webhookId its webhook.webhook_id is 00000000-0000-0000-0000-000000000000',
  })
  body: string;

  @Field(() => ID, {
    nullable: true,
    description: 'The event whose delivery was being handled when this change was made (the request carried its webhook-id); null otherwise',
  })
  causeEventId: string | null;

  @Field(() => Int, { description: 'How many deliveries deep this event is in a chain of such changes; 0 for a change no delivery caused' })
  causalDepth: number;

  @Field(() => String, { nullable: true, description: 'Why no webhook is sent this event (loop protection: beyond WEBHOOK_MAX_CAUSAL_DEPTH); null when it is sent' })
  suppressedReason: string | null;

  @Field({ description: "The content-type the webhook sends the body with (application/json without a body template)" })
  contentType: string;
}
