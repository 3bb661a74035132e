import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, Kind, parse, print, validate, visit, type DefinitionNode } from 'graphql';
import { FRAGMENTS, OPERATIONS, SDK_OPERATIONS } from './operations';

function spreads(node: DefinitionNode): string[] {
  const names = new Set<string>();
  visit(node, { FragmentSpread: (spread) => void names.add(spread.name.value) });
  return [...names];
}

describe('SDK operation documents', () => {
  it.each(Object.entries({ ...OPERATIONS, ...SDK_OPERATIONS }))('%s is one named operation plus the fragments it spreads', (name, text) => {
    const [operation, ...fragments] = parse(text).definitions;
    expect(operation.kind).toBe(Kind.OPERATION_DEFINITION);
    expect(operation.kind === Kind.OPERATION_DEFINITION && operation.name?.value).toBe(name);
    expect(fragments.map((f) => f.kind === Kind.FRAGMENT_DEFINITION && f.name.value)).toEqual(spreads(operation));
    for (const fragment of spreads(operation)) expect(FRAGMENTS).toHaveProperty(fragment);
  });

  it("the SDK's own operations are valid against the emitted schema", () => {
    const schema = buildSchema(readFileSync(join(__dirname, '..', 'schema', 'schema.graphql'), 'utf8'));
    for (const text of Object.values(SDK_OPERATIONS)) expect(validate(schema, parse(text))).toEqual([]);
  });
});

// The repository's copy of the binding contract (contract/), which the contract tests also read.
const source = readFileSync(join(__dirname, '..', 'contract', 'operations.graphql'), 'utf8');

describe('SDK operation documents against the contract file', () => {
  const definitions = parse(source).definitions;

  it('holds every operation and fragment of the contract, and nothing else', () => {
    const names = (kind: Kind) =>
      definitions
        .filter((d) => d.kind === kind)
        .map((d) => (d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION ? d.name?.value : ''));
    expect(Object.keys(OPERATIONS).sort()).toEqual(names(Kind.OPERATION_DEFINITION).sort());
    expect(Object.keys(FRAGMENTS).sort()).toEqual(names(Kind.FRAGMENT_DEFINITION).sort());
    for (const name of Object.keys(SDK_OPERATIONS)) expect(names(Kind.OPERATION_DEFINITION)).not.toContain(name);
  });

  // Generated documents are printed by graphql-js, so they differ from the contract in layout
  // only: the same definitions, selection for selection.
  it('sends each definition exactly as the contract defines it', () => {
    const fragments = new Map<string, DefinitionNode>();
    for (const d of definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    for (const d of definitions) {
      if (d.kind === Kind.FRAGMENT_DEFINITION) {
        expect(print(parse(FRAGMENTS[d.name.value as keyof typeof FRAGMENTS]))).toBe(print(d));
      } else if (d.kind === Kind.OPERATION_DEFINITION) {
        const expected = [d, ...spreads(d).map((f) => fragments.get(f)!)].map((n) => print(n));
        expect(parse(OPERATIONS[d.name!.value as keyof typeof OPERATIONS]).definitions.map((n) => print(n))).toEqual(expected);
      }
    }
  });
});
