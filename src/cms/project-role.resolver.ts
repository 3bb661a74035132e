import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { notFound } from '../common/app-error';
import { GraphQLContext, requireActor } from '../graphql/context';
import { ProjectType } from './cms.type';
import { ProjectRole } from './roles';

@Resolver(() => ProjectType)
export class ProjectRoleResolver {
  /**
   * What the caller may do here, so a client can hide what the API would refuse. A super-admin
   * gets OWNER everywhere, member or not: AccessService grants them exactly what an OWNER may do.
   */
  @FieldResolver(() => ProjectRole, { description: "The caller's role in this project; a super-admin counts as OWNER everywhere" })
  async myRole(@Root() project: ProjectType, @Ctx() ctx: GraphQLContext): Promise<ProjectRole> {
    const actor = requireActor(ctx);
    if (actor.isSuperAdmin) return ProjectRole.OWNER;
    const role = await ctx.loaders.memberRole.load(`${actor.user.id}:${project.id}`);
    // Projects reach the caller only through their memberships; one just removed is gone.
    if (!role) throw notFound('Project');
    return role;
  }
}
