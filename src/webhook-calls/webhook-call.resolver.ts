import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root, Subscription, SubscribeResolverData } from 'type-graphql';
import { AppError } from '../common/app-error';
import type { WebhookCall } from './webhook-call.entity';
import { GraphQLContext, requireActor } from '../graphql/context';
import { formatError } from '../graphql/format-error';
import { toCurl } from './curl';
import { WebhookCallFilter } from './webhook-call.input';
import { toWebhookCallType, WebhookCallConnection, WebhookCallType } from './webhook-call.type';

interface LoggedArgs {
  projectId: string;
  webhookId?: string | null;
}

/**
 * An error thrown while a subscription starts does not pass through graphql-ws's `onError`
 * hook: graphql-js turns it into a result `{ errors }` that graphql-ws sends as a `next`
 * message as is. So the code and message are settled here, by the same formatError as
 * everywhere else, and put on the error as `extensions`, which graphql-js copies onto the
 * GraphQLError it builds. An AppError stays an AppError, so a later formatting pass maps it
 * the same way again.
 */
export function withErrorCode(error: unknown): Error {
  const formatted = formatError({ message: error instanceof Error ? error.message : String(error) }, error);
  const target = error instanceof AppError ? error : new Error(formatted.message);
  return Object.assign(target, { extensions: formatted.extensions });
}

async function subscribeToLog({ args, context }: SubscribeResolverData<unknown, LoggedArgs, GraphQLContext>): Promise<AsyncIterable<WebhookCall>> {
  try {
    return await context.services.webhookCalls.live(requireActor(context), args.projectId, args.webhookId);
  } catch (error) {
    throw withErrorCode(error);
  }
}

@Resolver(() => WebhookCallType)
export class WebhookCallResolver {
  @Query(() => WebhookCallConnection, { description: 'The log of webhook calls of a project, newest first' })
  async webhookCalls(
    @Arg('projectId', () => ID) projectId: string,
    @Arg('filter', () => WebhookCallFilter, { nullable: true }) filter: WebhookCallFilter | null,
    @Arg('first', () => Int, { nullable: true, description: 'At most 100' }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Omit<WebhookCallConnection, 'totalCount'>> {
    const page = await ctx.services.webhookCalls.list(requireActor(ctx), projectId, filter, first, after);
    return {
      edges: page.edges.map((edge) => ({ cursor: edge.cursor, node: toWebhookCallType(edge.node) as WebhookCallType })),
      pageInfo: page.pageInfo,
      countQuery: { projectId, filter },
    };
  }

  @Query(() => WebhookCallType)
  async webhookCall(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return toWebhookCallType(await ctx.services.webhookCalls.get(requireActor(ctx), id));
  }

  @Subscription(() => WebhookCallType, {
    description: 'Calls logged from now on (after their transaction commits), by any process; ADMIN and up',
    subscribe: subscribeToLog,
  })
  webhookCallLogged(
    @Root() call: WebhookCall,
    // Declared for the schema; subscribeToLog reads them.
    @Arg('projectId', () => ID) _projectId: string,
    @Arg('webhookId', () => ID, { nullable: true }) _webhookId: string | null,
  ) {
    return toWebhookCallType(call);
  }

  @FieldResolver(() => String)
  curl(@Root() call: WebhookCallType): string {
    return toCurl({ method: call.requestMethod, url: call.requestUrl, headers: call.requestHeaders, body: call.requestBody });
  }
}

@Resolver(() => WebhookCallConnection)
export class WebhookCallConnectionResolver {
  @FieldResolver(() => Int)
  totalCount(@Root() connection: WebhookCallConnection, @Ctx() ctx: GraphQLContext): Promise<number> {
    return ctx.services.webhookCalls.count(requireActor(ctx), connection.countQuery.projectId, connection.countQuery.filter);
  }
}
