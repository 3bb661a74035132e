import type { Actor } from '../auth/actor';
import type { Services } from '../services';
import type { Loaders } from './loaders';

/** Per request (or per subscription connection). `type`, not `interface`: graphql-ws's generics need it. */
export type GraphQLContext = {
  actor: Actor | null;
  services: Services;
  /** Per-request batch loaders: one query for the rows of a list, not one per row. */
  loaders: Loaders;
};

export function requireActor(ctx: GraphQLContext): Actor {
  return ctx.services.access.requireActor(ctx.actor);
}
