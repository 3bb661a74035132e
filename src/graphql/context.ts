import type { Actor } from '../auth/actor';
import type { Services } from '../services';

/** Per request (or per subscription connection). `type`, not `interface`: graphql-ws's generics need it. */
export type GraphQLContext = {
  actor: Actor | null;
  services: Services;
  /** Per-request memo for batch loaders (one query for a list, not one per item). */
  memo: Map<string, unknown>;
};

export function requireActor(ctx: GraphQLContext): Actor {
  return ctx.services.access.requireActor(ctx.actor);
}
