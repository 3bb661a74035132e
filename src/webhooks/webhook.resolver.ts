import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { requireUuid } from '../common/app-error';
import { GraphQLContext, requireActor } from '../graphql/context';
import { WebhookBodyDraftInput, WebhookInput, WebhookUpdateInput } from './webhook.input';
import { toWebhookType, WebhookBodyPreviewType, WebhookType } from './webhook.type';

@Resolver(() => WebhookType)
export class WebhookResolver {
  @Query(() => [WebhookType])
  async webhooks(@Arg('projectId', () => ID) projectId: string, @Ctx() ctx: GraphQLContext) {
    const list = await ctx.services.webhooks.list(requireActor(ctx), requireUuid('projectId', projectId));
    return list.map(toWebhookType);
  }

  @Query(() => WebhookType)
  async webhook(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return toWebhookType(await ctx.services.webhooks.get(requireActor(ctx), requireUuid('id', id)));
  }

  @Query(() => WebhookBodyPreviewType, {
    description:
      "The body the webhook sends for an event of its project (eventId), or for a sample of its first trigger; with `draft`, rendered with those body settings instead of the saved ones",
  })
  async previewWebhookBody(
    @Arg('webhookId', () => ID) webhookId: string,
    @Arg('eventId', () => ID, { nullable: true }) eventId: string | null,
    @Arg('draft', () => WebhookBodyDraftInput, { nullable: true }) draft: WebhookBodyDraftInput | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.bodies.preview(requireActor(ctx), requireUuid('webhookId', webhookId), eventId == null ? null : requireUuid('eventId', eventId), draft ?? null);
  }

  @Mutation(() => WebhookType)
  async createWebhook(@Arg('projectId', () => ID) projectId: string, @Arg('input', () => WebhookInput) input: WebhookInput, @Ctx() ctx: GraphQLContext) {
    return toWebhookType(await ctx.services.webhooks.create(requireActor(ctx), requireUuid('projectId', projectId), input));
  }

  @Mutation(() => WebhookType)
  async updateWebhook(@Arg('id', () => ID) id: string, @Arg('input', () => WebhookUpdateInput) input: WebhookUpdateInput, @Ctx() ctx: GraphQLContext) {
    return toWebhookType(await ctx.services.webhooks.update(requireActor(ctx), requireUuid('id', id), input));
  }

  @Mutation(() => Boolean)
  deleteWebhook(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.webhooks.delete(requireActor(ctx), requireUuid('id', id));
  }

  @Mutation(() => WebhookType, { description: 'New signing secret; the previous one keeps signing alongside it for 24 hours' })
  async rotateWebhookSecret(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return toWebhookType(await ctx.services.webhooks.rotateSecret(requireActor(ctx), requireUuid('id', id)));
  }

  @FieldResolver(() => Int)
  async successfulCallsLast30Days(@Root() webhook: WebhookType, @Ctx() ctx: GraphQLContext): Promise<number> {
    return (await ctx.loaders.callStats.load(webhook.id)).succeeded;
  }

  @FieldResolver(() => Int)
  async failedCallsLast30Days(@Root() webhook: WebhookType, @Ctx() ctx: GraphQLContext): Promise<number> {
    return (await ctx.loaders.callStats.load(webhook.id)).failed;
  }
}
