import { Arg, ID, Resolver, Root, Subscription, SubscribeResolverData } from 'type-graphql';
import { withErrorCode } from '../webhook-calls/webhook-call.resolver';
import { GraphQLContext, requireActor } from '../graphql/context';
import { WebhookTrigger } from '../webhooks/triggers';
import type { WebhookEventData, WebhookEventsArgs } from './webhook-event.service';
import { WebhookEventType } from './webhook-event.type';

async function subscribeToEvents({ args, context }: SubscribeResolverData<unknown, WebhookEventsArgs, GraphQLContext>): Promise<AsyncIterable<WebhookEventData>> {
  try {
    return await context.services.webhookEvents.live(requireActor(context), args);
  } catch (error) {
    throw withErrorCode(error);
  }
}

@Resolver(() => WebhookEventType)
export class WebhookEventResolver {
  @Subscription(() => WebhookEventType, {
    description:
      'Events of a project as they commit, by any process, each once and in a fixed order that a resumed stream continues ' +
      'without a gap; ADMIN and up. With after, first the events that followed that one (at most 10000 back). With ' +
      'webhookId, only what that webhook gets (its triggers and blueprint filter), with bodies naming it.',
    subscribe: subscribeToEvents,
  })
  webhookEvents(
    @Root() event: WebhookEventData,
    // Declared for the schema; subscribeToEvents reads them.
    @Arg('projectId', () => ID) _projectId: string,
    @Arg('webhookId', () => ID, { nullable: true }) _webhookId: string | null,
    @Arg('triggers', () => [WebhookTrigger], { nullable: true, description: 'Only these; default all (or all of the webhook\'s)' }) _triggers: WebhookTrigger[] | null,
    @Arg('after', () => ID, { nullable: true, description: 'An event id: replay the events that followed it, then go on live' }) _after: string | null,
  ): WebhookEventType {
    return event;
  }
}
