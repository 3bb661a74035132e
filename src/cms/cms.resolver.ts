import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { requireUuid } from '../common/app-error';
import { GraphQLContext, requireActor } from '../graphql/context';
import { Blueprint } from './blueprint.entity';
import { BlueprintInput, BlueprintUpdateInput, CreateProjectInput, DocumentInput, DocumentUpdateInput } from './cms.input';
import { BlueprintType, DocumentConnection, DocumentType, ProjectMemberType, ProjectType } from './cms.type';
import { Document, DocumentStatus } from './document.entity';
import { ProjectRole } from './roles';

/** Resolvers parse ids and hand over to the services, which authorize and decide. */
@Resolver()
export class ProjectResolver {
  @Mutation(() => ProjectType)
  createProject(@Arg('input', () => CreateProjectInput) input: CreateProjectInput, @Ctx() ctx: GraphQLContext) {
    return ctx.services.projects.create(requireActor(ctx), input.name);
  }

  @Query(() => [ProjectType], { description: 'The projects the caller is a member of (all of them for a super-admin)' })
  projects(@Ctx() ctx: GraphQLContext) {
    return ctx.services.projects.list(requireActor(ctx));
  }

  @Query(() => [ProjectMemberType])
  projectMembers(@Arg('projectId', () => ID) projectId: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.projects.members(requireActor(ctx), requireUuid('projectId', projectId));
  }

  @Mutation(() => ProjectMemberType, { description: 'Adds a user to a project, or changes their role' })
  assignProjectMember(
    @Arg('projectId', () => ID) projectId: string,
    @Arg('userId', () => ID) userId: string,
    @Arg('role', () => ProjectRole) role: ProjectRole,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.projects.assign(requireActor(ctx), requireUuid('projectId', projectId), requireUuid('userId', userId), role);
  }

  @Mutation(() => Boolean)
  deassignProjectMember(@Arg('projectId', () => ID) projectId: string, @Arg('userId', () => ID) userId: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.projects.deassign(requireActor(ctx), requireUuid('projectId', projectId), requireUuid('userId', userId));
  }
}

@Resolver(() => BlueprintType)
export class BlueprintResolver {
  @Query(() => BlueprintType)
  blueprint(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.blueprints.get(requireActor(ctx), requireUuid('id', id));
  }

  @Query(() => [BlueprintType])
  blueprints(@Arg('projectId', () => ID) projectId: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.blueprints.list(requireActor(ctx), requireUuid('projectId', projectId));
  }

  @Mutation(() => BlueprintType)
  createBlueprint(@Arg('projectId', () => ID) projectId: string, @Arg('input', () => BlueprintInput) input: BlueprintInput, @Ctx() ctx: GraphQLContext) {
    return ctx.services.blueprints.create(requireActor(ctx), requireUuid('projectId', projectId), input);
  }

  @Mutation(() => BlueprintType)
  updateBlueprint(@Arg('id', () => ID) id: string, @Arg('input', () => BlueprintUpdateInput) input: BlueprintUpdateInput, @Ctx() ctx: GraphQLContext) {
    return ctx.services.blueprints.update(requireActor(ctx), requireUuid('id', id), input);
  }

  @Mutation(() => Boolean)
  deleteBlueprint(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.blueprints.delete(requireActor(ctx), requireUuid('id', id));
  }
}

@Resolver(() => DocumentType)
export class DocumentResolver {
  @Query(() => DocumentType)
  document(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.documents.get(requireActor(ctx), requireUuid('id', id));
  }

  @Query(() => DocumentConnection, { description: 'Newest first' })
  documents(
    @Arg('projectId', () => ID) projectId: string,
    @Arg('blueprintId', () => ID, { nullable: true }) blueprintId: string | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.documents.list(requireActor(ctx), requireUuid('projectId', projectId), { blueprintId, first, after });
  }

  @Mutation(() => DocumentType)
  createDocument(@Arg('projectId', () => ID) projectId: string, @Arg('input', () => DocumentInput) input: DocumentInput, @Ctx() ctx: GraphQLContext) {
    return ctx.services.documents.create(requireActor(ctx), requireUuid('projectId', projectId), input);
  }

  @Mutation(() => DocumentType)
  updateDocument(@Arg('id', () => ID) id: string, @Arg('input', () => DocumentUpdateInput) input: DocumentUpdateInput, @Ctx() ctx: GraphQLContext) {
    return ctx.services.documents.update(requireActor(ctx), requireUuid('id', id), input);
  }

  @Mutation(() => DocumentType)
  setDocumentStatus(@Arg('id', () => ID) id: string, @Arg('status', () => DocumentStatus) status: DocumentStatus, @Ctx() ctx: GraphQLContext) {
    return ctx.services.documents.setStatus(requireActor(ctx), requireUuid('id', id), status);
  }

  @Mutation(() => Boolean)
  deleteDocument(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.documents.delete(requireActor(ctx), requireUuid('id', id));
  }

  @FieldResolver(() => DocumentStatus)
  status(@Root() document: Document): DocumentStatus {
    return document.statusId;
  }

  /** The caller already passed the document's project check, so its blueprint is readable too. */
  @FieldResolver(() => BlueprintType)
  blueprint(@Root() document: Document, @Ctx() ctx: GraphQLContext): Promise<Blueprint> {
    return ctx.loaders.blueprint.load(document.blueprintId);
  }
}
