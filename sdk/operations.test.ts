import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse, visit, type DefinitionNode } from 'graphql';
import { FRAGMENTS, OPERATIONS } from './operations';

function spreads(node: DefinitionNode): string[] {
  const names = new Set<string>();
  visit(node, { FragmentSpread: (spread) => void names.add(spread.name.value) });
  return [...names];
}

describe('SDK operation documents', () => {
  it.each(Object.entries(OPERATIONS))('%s is one named operation plus the fragments it spreads', (name, text) => {
    const [operation, ...fragments] = parse(text).definitions;
    expect(operation.kind).toBe(Kind.OPERATION_DEFINITION);
    expect(operation.kind === Kind.OPERATION_DEFINITION && operation.name?.value).toBe(name);
    expect(fragments.map((f) => f.kind === Kind.FRAGMENT_DEFINITION && f.name.value)).toEqual(spreads(operation));
    for (const fragment of spreads(operation)) expect(FRAGMENTS).toHaveProperty(fragment);
  });
});

// The repository's copy of the binding contract (contract/), which the contract tests also read.
const source = readFileSync(join(__dirname, '..', 'contract', 'operations.graphql'), 'utf8');

describe('SDK operation documents against the contract file', () => {
  const definitions = parse(source).definitions;
  const textOf = (node: DefinitionNode) => source.slice(node.loc!.start, node.loc!.end);

  it('holds every operation and fragment of the contract, and nothing else', () => {
    const names = (kind: Kind) =>
      definitions
        .filter((d) => d.kind === kind)
        .map((d) => (d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION ? d.name?.value : ''));
    expect(Object.keys(OPERATIONS).sort()).toEqual(names(Kind.OPERATION_DEFINITION).sort());
    expect(Object.keys(FRAGMENTS).sort()).toEqual(names(Kind.FRAGMENT_DEFINITION).sort());
  });

  it('sends each definition character for character as the contract writes it', () => {
    const fragmentText = new Map<string, string>();
    for (const d of definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragmentText.set(d.name.value, textOf(d));
    for (const d of definitions) {
      if (d.kind === Kind.FRAGMENT_DEFINITION) {
        expect(FRAGMENTS[d.name.value as keyof typeof FRAGMENTS]).toBe(textOf(d));
      } else if (d.kind === Kind.OPERATION_DEFINITION) {
        const expected = [textOf(d), ...spreads(d).map((f) => fragmentText.get(f))].join('\n\n');
        expect(OPERATIONS[d.name!.value as keyof typeof OPERATIONS]).toBe(expected);
      }
    }
  });
});
