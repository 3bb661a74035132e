import { Arg, Ctx, ID, Int, Mutation, Query, Resolver, Root, Subscription, SubscribeResolverData } from 'type-graphql';
import { requireUuid } from '../common/app-error';
import { GraphQLContext, requireActor } from '../graphql/context';
import { withErrorCode } from '../webhook-calls/webhook-call.resolver';
import type { WebhookHealthChange } from './health-feed';
import {
  NotificationCallConnection,
  NotificationCallType,
  NotificationEndpointType,
  toNotificationCallType,
  toNotificationEndpointType,
  WebhookHealthChangeType,
} from './health.type';
import { NotificationEndpointInput, NotificationEndpointUpdateInput } from './notification-endpoint.input';

async function subscribeToHealth({ args, context }: SubscribeResolverData<unknown, { projectId: string }, GraphQLContext>): Promise<AsyncIterable<WebhookHealthChange>> {
  try {
    return await context.services.health.live(requireActor(context), args.projectId);
  } catch (error) {
    throw withErrorCode(error);
  }
}

@Resolver()
export class NotificationEndpointResolver {
  @Query(() => [NotificationEndpointType], { description: "The project's notification endpoints; ADMIN and up" })
  async notificationEndpoints(@Arg('projectId', () => ID) projectId: string, @Ctx() ctx: GraphQLContext) {
    return (await ctx.services.notificationEndpoints.list(requireActor(ctx), projectId)).map(toNotificationEndpointType);
  }

  @Mutation(() => NotificationEndpointType)
  async createNotificationEndpoint(@Arg('projectId', () => ID) projectId: string, @Arg('input', () => NotificationEndpointInput) input: NotificationEndpointInput, @Ctx() ctx: GraphQLContext) {
    return toNotificationEndpointType(await ctx.services.notificationEndpoints.create(requireActor(ctx), projectId, input));
  }

  @Mutation(() => NotificationEndpointType)
  async updateNotificationEndpoint(@Arg('id', () => ID) id: string, @Arg('input', () => NotificationEndpointUpdateInput) input: NotificationEndpointUpdateInput, @Ctx() ctx: GraphQLContext) {
    return toNotificationEndpointType(await ctx.services.notificationEndpoints.update(requireActor(ctx), id, input));
  }

  @Mutation(() => NotificationEndpointType, {
    description: 'A new signing secret; the previous one keeps signing too for 24 hours, so receivers can roll over',
  })
  async rotateNotificationEndpointSecret(@Arg('endpointId', () => ID) endpointId: string, @Ctx() ctx: GraphQLContext) {
    return toNotificationEndpointType(await ctx.services.notificationEndpoints.rotateSecret(requireActor(ctx), requireUuid('endpointId', endpointId)));
  }

  @Mutation(() => NotificationCallType, {
    description: 'Sends an example `webhook.failing` notification marked `"test": true` to the endpoint now, even if disabled, and returns its log row',
  })
  async sendTestNotification(@Arg('endpointId', () => ID) endpointId: string, @Ctx() ctx: GraphQLContext) {
    return toNotificationCallType(await ctx.services.sends.testNotification(requireActor(ctx), requireUuid('endpointId', endpointId)));
  }

  @Mutation(() => Boolean)
  deleteNotificationEndpoint(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.notificationEndpoints.delete(requireActor(ctx), id);
  }

  @Query(() => NotificationCallConnection, { description: 'Calls to the notification endpoints of a project (or one), newest first' })
  async notificationCalls(
    @Arg('projectId', () => ID) projectId: string,
    @Arg('endpointId', () => ID, { nullable: true }) endpointId: string | null,
    @Arg('first', () => Int, { nullable: true, description: 'At most 100' }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<NotificationCallConnection> {
    const page = await ctx.services.notificationEndpoints.calls(requireActor(ctx), projectId, endpointId, first, after);
    return { edges: page.edges.map((edge) => ({ cursor: edge.cursor, node: toNotificationCallType(edge.node) })), pageInfo: page.pageInfo };
  }

  @Subscription(() => WebhookHealthChangeType, {
    description: "Changes of the project's webhooks' health state, from now on, whichever process made them; ADMIN and up",
    subscribe: subscribeToHealth,
  })
  webhookHealthChanged(@Root() change: WebhookHealthChange, @Arg('projectId', () => ID) _projectId: string): WebhookHealthChangeType {
    return change;
  }
}
