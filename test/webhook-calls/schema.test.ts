import { DocumentNode, FragmentDefinitionNode, Kind, OperationDefinitionNode, parse, validate, visit } from 'graphql';
import { buildAppSchema, printAppSchema } from '../../src/graphql/schema';
import { contractDocument } from '../support/api';

const OURS = ['WebhookCalls', 'WebhookCallsCount', 'WebhookCall', 'WebhookCallLogged'];

/** One contract operation with the fragments it spreads, as a document of its own. */
function operationDocument(name: string): DocumentNode {
  const all = parse(contractDocument());
  const operation = all.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === name);
  if (!operation) throw new Error(`no operation ${name} in the contract`);
  const fragments = all.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
  const spread = new Set<string>();
  visit(operation, { FragmentSpread: (node) => void spread.add(node.name.value) });
  return { kind: Kind.DOCUMENT, definitions: [operation, ...fragments.filter((f) => spread.has(f.name.value))] };
}

test.each(OURS)('the contract operation %s validates against the schema', (name) => {
  expect(validate(buildAppSchema(), operationDocument(name)).map((e) => e.message)).toEqual([]);
});

test('the SDL prints without a live pubSub and carries the log types', () => {
  const sdl = printAppSchema();
  expect(sdl).toContain('webhookCallLogged(projectId: ID!, webhookId: ID): WebhookCall!');
  expect(sdl).toMatch(/input WebhookCallFilter \{[^}]*since: DateTime[^}]*\}/s);
  expect(sdl).toMatch(/type WebhookCallConnection \{[^}]*totalCount: Int!/s);
});
