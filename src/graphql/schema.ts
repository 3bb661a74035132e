import 'reflect-metadata';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchemaSync } from 'type-graphql';
import { WebhookCallConnectionResolver, WebhookCallResolver } from '../webhook-calls/webhook-call.resolver';
import { IdentityResolver } from '../auth/identity.resolver';
import { BlueprintResolver, DocumentResolver, ProjectResolver } from '../cms/cms.resolver';
import { ProjectRoleResolver } from '../cms/project-role.resolver';
import { WebhookEventResolver } from '../events/webhook-event.resolver';
import { WebhookHealthResolver, WebhookStatsResolver } from '../stats/webhook-stats.resolver';
import { WebhookResolver } from '../webhooks/webhook.resolver';
import { WebhookSendResolver } from '../webhooks/webhook-send.resolver';
import { NotificationEndpointResolver } from '../health/health.resolver';
import './enums';
import { guardArgumentText } from './input-guard';
import { DateTimeScalar } from './scalars';

export const RESOLVERS = [IdentityResolver, ProjectResolver, BlueprintResolver, DocumentResolver, WebhookResolver, WebhookCallResolver, WebhookCallConnectionResolver, WebhookSendResolver, WebhookEventResolver,
  ProjectRoleResolver, WebhookStatsResolver, WebhookHealthResolver, NotificationEndpointResolver] as const;

/**
 * type-graphql refuses to build a schema with subscriptions but no pubSub. The app passes the
 * live call log's; printing the SDL (or validating operations) needs none, and webhookCallLogged
 * takes its stream from the context, not from this object.
 */
const SDL_ONLY_PUBSUB = {
  publish: () => undefined,
  subscribe: (): AsyncIterable<unknown> => {
    throw new Error('this schema was built without a pubSub');
  },
};

export function buildAppSchema(pubSub?: Parameters<typeof buildSchemaSync>[0]['pubSub']): GraphQLSchema {
  const schema = buildSchemaSync({
    resolvers: [...RESOLVERS] as unknown as [Function, ...Function[]],
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: false,
    pubSub: pubSub ?? SDL_ONLY_PUBSUB,
  });
  // Every argument of every field passes the one text check (U+0000, unpaired surrogates).
  return guardArgumentText(schema);
}

/** Sorted, so the committed SDL only changes when the API does. */
export function printAppSchema(schema: GraphQLSchema = buildAppSchema()): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
