import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { requireUuid } from '../common/app-error';
import { GraphQLContext, requireActor } from '../graphql/context';
import { ApiTokenType, CreatedApiTokenType, CreateUserInput, toApiTokenType, UserType } from './identity.type';

@Resolver()
export class IdentityResolver {
  @Query(() => UserType)
  me(@Ctx() ctx: GraphQLContext): UserType {
    const actor = requireActor(ctx);
    return { ...actor.user, isSuperAdmin: actor.isSuperAdmin };
  }

  @Mutation(() => UserType)
  createUser(@Arg('input', () => CreateUserInput) input: CreateUserInput, @Ctx() ctx: GraphQLContext) {
    return ctx.services.identity.createUser(requireActor(ctx), input);
  }

  @Mutation(() => CreatedApiTokenType)
  async createApiToken(
    @Arg('userId', () => ID, { nullable: true }) userId: string | null,
    @Arg('name', () => String) name: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<CreatedApiTokenType> {
    const created = await ctx.services.identity.createApiToken(requireActor(ctx), userId == null ? undefined : requireUuid('userId', userId), name);
    return { token: created.token, apiToken: toApiTokenType(created.apiToken) };
  }

  @Query(() => [ApiTokenType], { description: "Your API tokens (a super-admin: any user's), newest first, revoked ones included" })
  async apiTokens(@Arg('userId', () => ID, { nullable: true }) userId: string | null, @Ctx() ctx: GraphQLContext): Promise<ApiTokenType[]> {
    const tokens = await ctx.services.identity.listApiTokens(requireActor(ctx), userId == null ? undefined : requireUuid('userId', userId));
    return tokens.map(toApiTokenType);
  }

  @Mutation(() => Boolean, { description: 'Revokes one of your tokens (a super-admin: anyone\'s); open subscriptions using it end at once' })
  revokeApiToken(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.identity.revokeApiToken(requireActor(ctx), requireUuid('id', id));
  }
}
