import { DateTimeISOResolver, JSONResolver } from 'graphql-scalars';
import { GraphQLScalarType } from 'graphql';

/** The contract names the scalars `DateTime` and `JSON`. */
export const DateTimeScalar = new GraphQLScalarType({ ...DateTimeISOResolver.toConfig(), name: 'DateTime', description: 'An ISO-8601 date-time string in UTC, e.g. 2026-11-23T18:39:00.000Z' });
export const JSONScalar = new GraphQLScalarType({ ...JSONResolver.toConfig(), name: 'JSON' });
