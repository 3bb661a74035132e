import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { GraphQLArmorRejectCallback } from '@escape.tech/graphql-armor-types';
import {
  defaultFieldResolver,
  DocumentNode,
  getOperationAST,
  getNullableType,
  GraphQLError,
  GraphQLSchema,
  isListType,
  OperationDefinitionNode,
  parse,
  specifiedRules,
  validate,
  ValidationRule,
} from 'graphql';
import type { ExecutionArgs } from 'graphql';
import { ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import { AppError, ErrorCode } from '../common/app-error';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../common/pagination';
import type { QueryLimits } from '../config/config';

/**
 * What one operation may ask for, checked before anything runs, over HTTP and WebSocket alike:
 * tokens (while parsing), depth, aliases and directives (GraphQL Armor's validation rules), and
 * a cost in which a list costs the rows it can return (graphql-query-complexity, with the
 * variables, so `first: $n` counts). Every refusal is QUERY_TOO_COMPLEX naming the limit.
 */

/** Root lists with no `first` (projects, webhooks, blueprints, projectMembers) are read whole. */
export const UNPAGED_LIST_SIZE = 100;
/** Lists stored inside a row (headers, blueprint fields): no query of their own. */
export const EMBEDDED_LIST_SIZE = 10;
/** A count reads the whole filtered log, however small the page it comes with: at most 10 in one request. */
export const TOTAL_COUNT_COST = 1000;
/**
 * The whole schema, described in memory: graphql-js answers it in one synchronous stretch
 * (several aliases of it too), during which nothing else is served. At most 2 in one request;
 * its nesting is bounded by graphql-js's own MaxIntrospectionDepthRule.
 */
export const SCHEMA_INTROSPECTION_COST = 4000;
/** Expanding fragments past this many fields is refused without finishing the count. */
const MAX_QUERY_NODES = 10_000;

export function queryTooComplex(message: string): GraphQLError {
  return new GraphQLError(message, {
    originalError: new AppError(ErrorCode.QUERY_TOO_COMPLEX, message),
    extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, http: { status: 400 } },
  });
}

/** Armor's messages already name the limit and the count ("Aliases limit of 30 exceeded, found 31."). */
const reportRefusal: GraphQLArmorRejectCallback = (context, error) => {
  context?.reportError(queryTooComplex(error.message.replace(/^Syntax Error: /, '')));
};

/** Depth, aliases and directives as validation rules, for Apollo and for graphql-ws. */
export function limitRules(limits: QueryLimits): ValidationRule[] {
  const refuse = { exposeLimits: true, propagateOnRejection: false, onReject: [reportRefusal] };
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, flattenFragments: true, ...refuse },
    maxAliases: { n: limits.maxAliases, ...refuse },
    maxDirectives: { n: limits.maxDirectives, ...refuse },
    // Tokens are counted by graphql-js's own parser (parseOptions) and the cost below knows
    // `first`; Armor's versions of both do not fit (its token plugin throws out of an Apollo hook).
    maxTokens: { enabled: false },
    costLimit: { enabled: false },
    // Introspection is public here, so suggestions reveal nothing it does not.
    blockFieldSuggestion: { enabled: false },
  });
  return armor.protect().validationRules;
}

/** graphql-js aborts parsing at `maxTokens` with this message ("more that" in 16.x); it becomes our coded refusal. */
const TOKEN_LIMIT = /^Syntax Error: Document contains more th(?:an|at) (\d+) tokens\. Parsing aborted\.$/;

export function tokenLimitError(message: string): AppError | undefined {
  const match = TOKEN_LIMIT.exec(message);
  return match ? new AppError(ErrorCode.QUERY_TOO_COMPLEX, `Token limit of ${match[1]} exceeded.`) : undefined;
}

function pageSizeFor(first: unknown): number {
  if (typeof first !== 'number' || !Number.isFinite(first)) return DEFAULT_PAGE_SIZE;
  // `first: 0` still reads one row (to answer hasNextPage).
  return Math.min(Math.max(first, 1), MAX_PAGE_SIZE);
}

/**
 * Cost of a field: 1, plus its selection times the rows it can return. A connection multiplies
 * by its `first` (clamped like the resolver does); its `edges` then do not multiply again.
 * `totalCount` is added once per connection, not once per row: its estimate runs before the
 * connection's own (depth first), so it is parked in `flat` and collected there.
 */
function estimator(schema: GraphQLSchema): ComplexityEstimator {
  const flat = { pending: 0 };
  const queryType = schema.getQueryType();
  return ({ type, field, args, childComplexity }) => {
    if (field.name === '__schema') return SCHEMA_INTROSPECTION_COST + childComplexity;
    // Introspection reads the schema in memory: no rows, so no list multiplies.
    if (type.name.startsWith('__') || field.name.startsWith('__')) return 1 + childComplexity;
    if (field.name === 'totalCount') {
      flat.pending += TOTAL_COUNT_COST;
      return 0;
    }
    if (field.args.some((arg) => arg.name === 'first')) {
      const counted = flat.pending;
      flat.pending = 0;
      return 1 + pageSizeFor(args.first) * childComplexity + counted;
    }
    if (isListType(getNullableType(field.type)) && field.name !== 'edges') {
      const size = type === queryType ? UNPAGED_LIST_SIZE : EMBEDDED_LIST_SIZE;
      return 1 + size * childComplexity;
    }
    return 1 + childComplexity;
  };
}

/**
 * The cost of `operation` with `variables`; Infinity when expanding its fragments exceeds
 * MAX_QUERY_NODES; undefined when the variables do not fit (execution refuses those itself).
 */
export function queryCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operation?: OperationDefinitionNode | null): number | undefined {
  try {
    return getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      // The library compares names and trips over an anonymous operation: name it only when named.
      operationName: operation?.name?.value,
      estimators: [estimator(schema)],
      maxQueryNodes: MAX_QUERY_NODES,
    });
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('Query exceeds the maximum allowed number of nodes')) return Number.POSITIVE_INFINITY;
    return undefined;
  }
}

export function costError(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operation: OperationDefinitionNode | null | undefined, maxCost: number): GraphQLError | undefined {
  const cost = queryCost(schema, document, variables, operation);
  if (cost === undefined || cost <= maxCost) return undefined;
  const found = Number.isFinite(cost) ? `found ${Math.ceil(cost)}` : `found more than ${MAX_QUERY_NODES} fields once fragments are expanded`;
  return queryTooComplex(`Cost limit of ${maxCost} exceeded, ${found}. A list costs its \`first\` (at most ${MAX_PAGE_SIZE}) times its fields.`);
}

/** Apollo: the cost needs the variables, which validation rules never see. */
export function costLimitPlugin(maxCost: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request, operation }) {
          const error = costError(schema, document, request.variables, operation, maxCost);
          if (error) throw error;
        },
      };
    },
  };
}

/**
 * graphql-ws: parse, validate and cost an operation the way Apollo does over HTTP. graphql-ws's
 * own path would let a syntax error close the socket with 4500 and send validation errors
 * without a code; here every refusal is a coded error sent for that operation only.
 */
export function checkSubscribe(
  schema: GraphQLSchema,
  limits: QueryLimits,
  rules: readonly ValidationRule[],
  payload: { query: string; operationName?: string | null; variables?: Record<string, unknown> | null },
): ExecutionArgs | GraphQLError[] {
  let document: DocumentNode;
  try {
    document = parse(payload.query, { maxTokens: limits.maxTokens });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const tooLong = tokenLimitError(message);
    if (tooLong) return [queryTooComplex(tooLong.message)];
    return [new GraphQLError(message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
  }
  const invalid = validate(schema, document, [...specifiedRules, ...rules]);
  if (invalid.length > 0) {
    return invalid.map((error) =>
      error.originalError instanceof AppError ? error : new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
    );
  }
  const operation = getOperationAST(document, payload.operationName);
  const variables = payload.variables ?? undefined;
  const tooCostly = costError(schema, document, variables, operation, limits.maxCost);
  if (tooCostly) return [tooCostly];
  return { schema, document, operationName: payload.operationName, variableValues: variables };
}

/**
 * graphql-js starts all of a query's root fields at once: 16 aliased pages are 16 statements
 * at once, and when their rows come back together, one long stretch of CPU during which
 * nothing else is served (another client, a /healthz probe). Here the root fields of one
 * request resolve one after the other, so a heavy request is spread out and shares the process
 * and the pool with everyone else; separate requests still run side by side. Mutations are
 * serial anyway; subscriptions are not touched.
 */
export function serializeRootFields(schema: GraphQLSchema): void {
  const tails = new WeakMap<object, Promise<unknown>>();
  for (const field of Object.values(schema.getQueryType()?.getFields() ?? {})) {
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = (source, args, context: object, info) => {
      const result = (tails.get(context) ?? Promise.resolve()).then(() => resolve(source, args, context, info));
      tails.set(context, result.catch(() => undefined));
      return result;
    };
  }
}
