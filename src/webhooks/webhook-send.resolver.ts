import { Arg, Ctx, ID, Int, Mutation, Resolver } from 'type-graphql';
import { toWebhookCallType, WebhookCallType } from '../webhook-calls/webhook-call.type';
import { requireUuid } from '../common/app-error';
import { GraphQLContext, requireActor } from '../graphql/context';
import { WebhookTrigger } from './triggers';

@Resolver()
export class WebhookSendResolver {
  @Mutation(() => WebhookCallType, { description: 'Sends a sample event of `trigger` now (kind TEST) and returns its log row' })
  async testWebhook(
    @Arg('id', () => ID) id: string,
    @Arg('trigger', () => WebhookTrigger, { nullable: true }) trigger: WebhookTrigger | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return toWebhookCallType(await ctx.services.sends.test(requireActor(ctx), requireUuid('id', id), trigger));
  }

  @Mutation(() => WebhookCallType, {
    description: "Re-sends a logged call's exact body to the webhook's current URL and headers (same webhook-id, fresh signature)",
  })
  async replayWebhookCall(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return toWebhookCallType(await ctx.services.sends.replay(requireActor(ctx), requireUuid('id', id)));
  }

  @Mutation(() => Int, {
    description:
      'Queues every delivery of the webhook that failed for good since `since` (at most 14 days back) for one more attempt; on a FIFO webhook, also retries now the delivery holding its line. Returns how many',
  })
  recoverWebhook(@Arg('id', () => ID) id: string, @Arg('since', () => Date) since: Date, @Ctx() ctx: GraphQLContext) {
    return ctx.services.sends.recover(requireActor(ctx), requireUuid('id', id), since);
  }
}
