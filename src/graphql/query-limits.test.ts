import fs from 'node:fs';
import path from 'node:path';
import {
  buildSchema,
  execute,
  FragmentDefinitionNode,
  getIntrospectionQuery,
  GraphQLError,
  GraphQLInputType,
  GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  OperationDefinitionNode,
  parse,
  print,
  typeFromAST,
  visit,
} from 'graphql';
import { loadConfig } from '../config/config';
import { isValidCidr } from '../delivery/ssrf';
import { checkSubscribe, limitRules, queryCost, serializeRootFields, TOTAL_COUNT_COST, UNPAGED_LIST_SIZE } from './query-limits';
import { buildAppSchema } from './schema';

const schema = buildAppSchema();
const defaults = loadConfig({}, isValidCidr).graphqlLimits;
const rules = limitRules(defaults);

/** Runs an operation through the same checks the server applies; returns the refusals. */
function refusals(query: string, variables?: Record<string, unknown>, limits = defaults): GraphQLError[] {
  const result = checkSubscribe(schema, limits, limits === defaults ? rules : limitRules(limits), { query, variables });
  return Array.isArray(result) ? result : [];
}

function costOf(query: string, variables?: Record<string, unknown>): number | undefined {
  return queryCost(schema, parse(query), variables);
}

/** A value of `type` the server would accept as a variable; every Int is 100, the largest `first`. */
function sample(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sample(type.ofType);
  if (isListType(type)) return [sample(type.ofType)];
  if (isEnumType(type)) return type.getValues()[0].name;
  if (isInputObjectType(type)) {
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((f) => isNonNullType(f.type))
        .map((f) => [f.name, sample(f.type)]),
    );
  }
  const scalars: Record<string, unknown> = { ID: '00000000-0000-4000-8000-000000000000', String: 'x', Int: 100, Boolean: true, DateTime: '2026-01-01T00:00:00Z', JSON: {} };
  if (!(type.name in scalars)) throw new Error(`no sample for scalar ${type.name}`);
  return scalars[type.name];
}

/** Each contract operation as a client sends it: the operation and the fragments it spreads. */
function contractOperations(): Array<{ name: string; query: string; variables: Record<string, unknown> }> {
  const document = parse(fs.readFileSync(path.join(__dirname, '..', '..', 'contract', 'operations.graphql'), 'utf8'));
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return operations.map((operation) => {
    const used = new Set<string>();
    const collect = (node: OperationDefinitionNode | FragmentDefinitionNode) =>
      visit(node, {
        FragmentSpread(spread) {
          if (used.has(spread.name.value)) return;
          used.add(spread.name.value);
          collect(fragments.get(spread.name.value)!);
        },
      });
    collect(operation);
    const variables = Object.fromEntries(
      (operation.variableDefinitions ?? []).map((v) => [v.variable.name.value, sample(typeFromAST(schema, v.type as never) as GraphQLInputType)]),
    );
    const query = [operation, ...[...used].map((name) => fragments.get(name)!)].map((d) => print(d)).join('\n\n');
    return { name: operation.name!.value, query, variables };
  });
}

const DOCUMENTS_WITH_BLUEPRINTS = 'documents(projectId: $p, first: 100) { edges { node { id blueprint { id name } } } }';
const aliased = (count: number, selection = DOCUMENTS_WITH_BLUEPRINTS) =>
  `query($p: ID!) { ${Array.from({ length: count }, (_, i) => `a${i}: ${selection}`).join(' ')} }`;
const P = { p: '00000000-0000-4000-8000-000000000000' };

describe('the default limits accept every contract operation, with the largest page', () => {
  const operations = contractOperations();

  test('the contract has operations to check, paged ones among them', () => {
    expect(operations.length).toBeGreaterThan(30);
    expect(operations.filter((o) => o.variables.first === 100).map((o) => o.name)).toEqual(expect.arrayContaining(['Documents', 'WebhookCalls']));
  });

  test.each(contractOperations().map((o) => [o.name, o] as const))('%s', (_name, operation) => {
    expect(refusals(operation.query, operation.variables)).toEqual([]);
    // Counted with real variables, not skipped for bad ones.
    expect(costOf(operation.query, operation.variables)).toBeGreaterThan(0);
  });

  test('the largest contract operation leaves headroom under GRAPHQL_MAX_COST', () => {
    const largest = Math.max(...operations.map((o) => costOf(o.query, o.variables)!));
    expect(largest).toBeLessThanOrEqual(defaults.maxCost * 0.75);
  });

  test('the standard introspection query (GraphiQL, codegen) is accepted', () => {
    expect(refusals(getIntrospectionQuery())).toEqual([]);
  });
});

describe('cost: a list costs its first', () => {
  test('a page of 100 ids: 1 for the connection, 100 × (edges + node + id)', () => {
    expect(costOf('{ documents(projectId: "x", first: 100) { edges { node { id } } } }')).toBe(1 + 100 * 3);
  });

  test('first from a variable counts, is capped at 100, and defaults to the default page size', () => {
    const query = 'query($n: Int) { documents(projectId: "x", first: $n) { edges { node { id } } } }';
    expect(costOf(query, { n: 7 })).toBe(1 + 7 * 3);
    expect(costOf(query, { n: 100_000 })).toBe(1 + 100 * 3);
    expect(costOf(query, {})).toBe(1 + 20 * 3);
  });

  test('an unpaged root list costs its assumed size', () => {
    expect(costOf('{ projects { id name } }')).toBe(1 + UNPAGED_LIST_SIZE * 2);
  });

  test('totalCount is counted once per connection, not once per row', () => {
    const page = costOf('{ webhookCalls(projectId: "x", first: 100) { edges { node { id } } } }')!;
    expect(costOf('{ webhookCalls(projectId: "x", first: 100) { totalCount edges { node { id } } } }')).toBe(page + TOTAL_COUNT_COST);
    expect(costOf('{ webhookCalls(projectId: "x", first: 100) { edges { node { id } } totalCount } }')).toBe(page + TOTAL_COUNT_COST);
  });

  test('fragments that multiply each other past 10,000 fields are refused without being expanded', () => {
    const levels = Array.from({ length: 16 }, (_, i) => `fragment F${i} on Query { a: me { id } ...F${i + 1} b: me { id } ...F${i + 1} }`);
    const query = `{ ...F0 } ${levels.join(' ')} fragment F16 on Query { me { id } }`;
    expect(queryCost(schema, parse(query), {})).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('each limit refuses with QUERY_TOO_COMPLEX, naming the limit and the number', () => {
  const codes = (errors: GraphQLError[]) => errors.map((e) => (e.originalError as { code?: string } | undefined)?.code ?? e.extensions.code);

  test('300 and 1000 aliases of a page of documents with blueprints (the reported attack)', () => {
    for (const count of [300, 1000]) {
      const errors = refusals(aliased(count), P);
      expect(codes(errors)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(errors[0].message).toMatch(/limit of \d+ exceeded/);
    }
  });

  test('cost', () => {
    const count = Math.floor(defaults.maxCost / costOf(aliased(1), P)!) + 1;
    const errors = refusals(aliased(count), P, { ...defaults, maxAliases: 1000, maxTokens: 100_000 });
    expect(codes(errors)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(errors[0].message).toMatch(new RegExp(`^Cost limit of ${defaults.maxCost} exceeded, found ${costOf(aliased(count), P)}\\.`));
  });

  test('aliases', () => {
    const errors = refusals(`{ ${Array.from({ length: defaults.maxAliases + 1 }, (_, i) => `m${i}: me { id }`).join(' ')} }`);
    expect(codes(errors)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(errors[0].message).toBe(`Aliases limit of ${defaults.maxAliases} exceeded, found ${defaults.maxAliases + 1}.`);
  });

  test('depth', () => {
    const query = 'query($p: ID!) { documents(projectId: $p) { edges { node { blueprint { fields { id } } } } } }';
    const errors = refusals(query, P, { ...defaults, maxDepth: 5 });
    expect(codes(errors)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(errors[0].message).toBe('Query depth limit of 5 exceeded, found 6.');
  });

  test('directives', () => {
    const errors = refusals(`{ me { ${Array.from({ length: defaults.maxDirectives + 1 }, () => 'id @include(if: true)').join(' ')} } }`);
    expect(codes(errors)).toContain('QUERY_TOO_COMPLEX');
    expect(errors.map((e) => e.message)).toContain(`Directives limit of ${defaults.maxDirectives} exceeded, found ${defaults.maxDirectives + 1}.`);
  });

  test('tokens', () => {
    const errors = refusals(`{ me { ${'id '.repeat(defaults.maxTokens)} } }`);
    expect(codes(errors)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(errors[0].message).toBe(`Token limit of ${defaults.maxTokens} exceeded.`);
  });

  test('a syntax or validation error over WebSocket carries its framework code, not none', () => {
    expect(codes(refusals('{ me { id '))).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(codes(refusals('{ me { nope } }'))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });
});

test('the schema in these tests is the app schema', () => {
  expect(schema).toBeInstanceOf(GraphQLSchema);
});

describe('serializeRootFields', () => {
  /** A schema whose one root field waits for `release` and records how many run at once. */
  function instrumented() {
    const small = buildSchema('type Query { page(n: Int!): Int! }');
    let running = 0;
    let most = 0;
    const waiting: Array<() => void> = [];
    small.getQueryType()!.getFields().page.resolve = async (_source, args: { n: number }) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => waiting.push(resolve));
      running -= 1;
      return args.n;
    };
    serializeRootFields(small);
    const releaseAll = async (until: () => boolean) => {
      while (!until()) {
        waiting.shift()?.();
        await new Promise((r) => setImmediate(r));
      }
    };
    return { small, most: () => most, releaseAll };
  }

  const query = parse(`{ ${Array.from({ length: 5 }, (_, i) => `a${i}: page(n: ${i})`).join(' ')} }`);

  test("one request's root fields resolve one at a time, each with its own answer", async () => {
    const { small, most, releaseAll } = instrumented();
    let done = false;
    const result = Promise.resolve(execute({ schema: small, document: query, contextValue: {} })).finally(() => (done = true));
    await releaseAll(() => done);
    expect(await result).toEqual({ data: { a0: 0, a1: 1, a2: 2, a3: 3, a4: 4 } });
    expect(most()).toBe(1);
  });

  test('separate requests still run side by side', async () => {
    const { small, most, releaseAll } = instrumented();
    let done = 0;
    const results = [{}, {}, {}].map((contextValue) => Promise.resolve(execute({ schema: small, document: query, contextValue })).finally(() => (done += 1)));
    await releaseAll(() => done === 3);
    await Promise.all(results);
    expect(most()).toBe(3);
  });

  test('a failing root field does not stop the ones after it', async () => {
    const small = buildSchema('type Query { fails: Int ok: Int }');
    small.getQueryType()!.getFields().fails.resolve = async () => {
      throw new Error('no');
    };
    small.getQueryType()!.getFields().ok.resolve = async () => 1;
    serializeRootFields(small);
    const result = await execute({ schema: small, document: parse('{ fails ok }'), contextValue: {} });
    expect(result.data).toEqual({ fails: null, ok: 1 });
    expect(result.errors?.[0].message).toBe('no');
  });
});
