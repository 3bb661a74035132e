import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { requireUuid } from '../common/app-error';
import { GraphQLContext, requireActor } from '../graphql/context';
import { CreatedApiTokenType, CreateUserInput, UserType } from './identity.type';

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
  createApiToken(
    @Arg('userId', () => ID, { nullable: true }) userId: string | null,
    @Arg('name', () => String) name: string,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.identity.createApiToken(requireActor(ctx), userId == null ? undefined : requireUuid('userId', userId), name);
  }
}
