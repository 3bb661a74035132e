import 'reflect-metadata';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchemaSync } from 'type-graphql';
import { IdentityResolver } from '../auth/identity.resolver';
import { BlueprintResolver, DocumentResolver, ProjectResolver } from '../cms/cms.resolver';
import { WebhookResolver } from '../webhooks/webhook.resolver';
import './enums';
import { DateTimeScalar } from './scalars';

export const RESOLVERS = [IdentityResolver, ProjectResolver, BlueprintResolver, DocumentResolver, WebhookResolver] as const;

export function buildAppSchema(pubSub?: Parameters<typeof buildSchemaSync>[0]['pubSub']): GraphQLSchema {
  return buildSchemaSync({
    resolvers: [...RESOLVERS] as unknown as [Function, ...Function[]],
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: false,
    pubSub,
  });
}

/** Sorted, so the committed SDL only changes when the API does. */
export function printAppSchema(schema: GraphQLSchema = buildAppSchema()): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
