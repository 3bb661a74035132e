import { DateTimeISOResolver, JSONResolver } from 'graphql-scalars';
import { GraphQLError, GraphQLScalarType, Kind, ValueNode } from 'graphql';
import { isStorableTimestamp, STORABLE_TIMESTAMP_RANGE } from '../common/timestamps';

const dateTime = DateTimeISOResolver.toConfig();

/** A date PostgreSQL cannot store would fail in the query, as an internal error: refused here. */
function storable(value: unknown): Date {
  const date = value as Date;
  if (!isStorableTimestamp(date)) throw new GraphQLError(`DateTime must be between ${STORABLE_TIMESTAMP_RANGE}`);
  return date;
}

/** The contract names the scalars `DateTime` and `JSON`. */
export const DateTimeScalar = new GraphQLScalarType({
  ...dateTime,
  name: 'DateTime',
  description: 'An ISO-8601 date-time string in UTC, e.g. 2026-11-23T18:39:00.000Z',
  parseValue: (value) => storable(dateTime.parseValue!(value)),
  parseLiteral: (ast, variables) => storable(dateTime.parseLiteral!(ast, variables)),
});

/**
 * graphql-scalars' JSON literal parser recurses once per level, so a deeply nested literal
 * would overflow the stack; this one keeps its own stack. Same values otherwise: objects
 * without a prototype, numbers as floats, a later duplicate key winning.
 */
export function jsonFromLiteral(root: ValueNode, variables?: Record<string, unknown> | null): unknown {
  let result: unknown;
  const stack: Array<{ node: ValueNode; put: (value: unknown) => void }> = [{ node: root, put: (value) => (result = value) }];
  while (stack.length > 0) {
    const { node, put } = stack.pop()!;
    switch (node.kind) {
      case Kind.OBJECT: {
        const object: Record<string, unknown> = Object.create(null);
        put(object);
        // Keys in the order written; popped first to last, so a later duplicate overwrites.
        for (const field of node.fields) object[field.name.value] = undefined;
        for (let i = node.fields.length - 1; i >= 0; i--) {
          const field = node.fields[i];
          stack.push({ node: field.value, put: (value) => (object[field.name.value] = value) });
        }
        break;
      }
      case Kind.LIST: {
        const list: unknown[] = new Array(node.values.length);
        put(list);
        node.values.forEach((value, i) => stack.push({ node: value, put: (v) => (list[i] = v) }));
        break;
      }
      case Kind.STRING:
      case Kind.BOOLEAN:
        put(node.value);
        break;
      case Kind.INT:
      case Kind.FLOAT:
        put(parseFloat(node.value));
        break;
      case Kind.NULL:
        put(null);
        break;
      case Kind.VARIABLE:
        put(variables ? variables[node.name.value] : undefined);
        break;
      default:
        put(undefined);
    }
  }
  return result;
}

export const JSONScalar = new GraphQLScalarType({ ...JSONResolver.toConfig(), name: 'JSON', parseLiteral: jsonFromLiteral });
