import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { GraphQLContext } from '../graphql/context';
import type { LastCall } from '../graphql/loaders';
import { WebhookType } from '../webhooks/webhook.type';
import { StatsBucket } from './stats-buckets';
import { MAX_RANGE_DAYS } from './webhook-stats.service';
import { WebhookLastCallType, WebhookStatsType } from './webhook-stats.type';

@Resolver(() => WebhookStatsType)
export class WebhookStatsResolver {
  @Query(() => WebhookStatsType, {
    description:
      `Calls succeeded and failed and p50/p95 durations of one webhook per UTC hour or day; ADMIN and up. ` +
      `\`to\` must be after \`from\`, at most ${MAX_RANGE_DAYS.HOUR} days later with HOUR, ${MAX_RANGE_DAYS.DAY} with DAY.`,
  })
  webhookStats(
    @Arg('webhookId', () => ID) webhookId: string,
    @Arg('from', () => Date) from: Date,
    @Arg('to', () => Date) to: Date,
    @Arg('bucket', () => StatsBucket) bucket: StatsBucket,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.stats.stats(ctx.actor, webhookId, from, to, bucket);
  }
}

/** Webhook fields that come from the log; a webhook is only readable by ADMIN and up, like the log. */
@Resolver(() => WebhookType)
export class WebhookHealthResolver {
  @FieldResolver(() => WebhookLastCallType, { nullable: true, description: 'The most recent logged call; null before the first' })
  lastCall(@Root() webhook: WebhookType, @Ctx() ctx: GraphQLContext): Promise<LastCall | null> {
    return ctx.loaders.lastCall.load(webhook.id);
  }
}
