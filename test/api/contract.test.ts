import fs from 'node:fs';
import path from 'node:path';
import {
  DefinitionNode,
  DocumentNode,
  FragmentDefinitionNode,
  GraphQLSchema,
  Kind,
  OperationDefinitionNode,
  parse,
  validate,
  visit,
} from 'graphql';
import { OPERATIONS } from '../../sdk/operations';
import { buildAppSchema, printAppSchema } from '../../src/graphql/schema';

/**
 * The API the code builds is the API the contract binds: the committed SDL matches the code,
 * the repository's copy of the contract matches the binding one, and every contract operation
 * is accepted by the schema unchanged.
 */

const ROOT = path.join(__dirname, '..', '..');
const SCHEMA_FILE = path.join(ROOT, 'schema', 'schema.graphql');
const CONTRACT_FILE = path.join(ROOT, 'contract', 'operations.graphql');
/** The binding contract, when the team's shared folder sits next to the repository. */
const SHARED_CONTRACT_FILE = path.join(ROOT, '..', 'shared', 'contract', 'operations.graphql');

/**
 * Contract operations the schema does not offer yet: the activity log, added by a later issue.
 * Empty this list as they land; everything not listed here must validate.
 */

const contract = parse(fs.readFileSync(CONTRACT_FILE, 'utf8'));
const operations = contract.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
const fragments = new Map(
  contract.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
);

/** One operation plus the fragments it spreads (transitively), as a client would send it. */
function documentFor(operation: OperationDefinitionNode): DocumentNode {
  const needed = new Map<string, FragmentDefinitionNode>();
  const collect = (node: DefinitionNode) =>
    visit(node, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        const fragment = fragments.get(name);
        if (!fragment) throw new Error(`contract/operations.graphql: fragment ${name} is spread but not defined`);
        if (!needed.has(name)) {
          needed.set(name, fragment);
          collect(fragment);
        }
      },
    });
  collect(operation);
  return { kind: Kind.DOCUMENT, definitions: [operation, ...needed.values()] };
}

describe('schema/schema.graphql', () => {
  test('is what the code builds (no drift between the committed SDL and the resolvers)', () => {
    if (!fs.existsSync(SCHEMA_FILE)) throw new Error('schema/schema.graphql is missing: run `npm run schema:emit` and commit the result.');
    const committed = fs.readFileSync(SCHEMA_FILE, 'utf8');
    const built = printAppSchema();
    if (committed !== built) {
      const a = committed.split('\n');
      const b = built.split('\n');
      const line = a.findIndex((text, i) => text !== b[i]);
      const at = line === -1 ? b.length : line;
      throw new Error(
        'schema/schema.graphql is stale: run `npm run schema:emit` and commit the result.\n' +
          `First difference at line ${at + 1}:\n  committed: ${JSON.stringify(a[at])}\n  built:     ${JSON.stringify(b[at])}`,
      );
    }
  });
});

describe('contract/operations.graphql against the schema built from the code', () => {
  let schema: GraphQLSchema;
  beforeAll(() => {
    schema = buildAppSchema();
  });

  const names = operations.map((o) => o.name?.value ?? '<anonymous>');

  test('every operation is named, once', () => {
    expect(names).not.toContain('<anonymous>');
    expect(new Set(names).size).toBe(names.length);
  });

  test.each(names)('%s validates unchanged', (name) => {
    const operation = operations.find((o) => o.name?.value === name)!;
    const errors = validate(schema, documentFor(operation)).map((e) => e.message);
    expect(errors).toEqual([]);
  });
});

describe('contract/operations.graphql against the binding contract', () => {
  const repoCopy = fs.readFileSync(CONTRACT_FILE, 'utf8');

  test(
    fs.existsSync(SHARED_CONTRACT_FILE)
      ? 'is identical to ../shared/contract/operations.graphql'
      : 'holds every operation the SDK sends (../shared/contract is absent, so no byte comparison)',
    () => {
      if (fs.existsSync(SHARED_CONTRACT_FILE)) {
        const binding = fs.readFileSync(SHARED_CONTRACT_FILE, 'utf8');
        if (repoCopy !== binding) {
          throw new Error('contract/operations.graphql differs from ../shared/contract/operations.graphql: copy the binding contract over the repository copy');
        }
      }
      // Always true of a faithful copy, and the only check left when the shared folder is absent.
      expect(() => parse(repoCopy)).not.toThrow();
      expect(operations.map((o) => o.name?.value).sort()).toEqual(expect.arrayContaining(Object.keys(OPERATIONS).sort()));
    },
  );
});
