import { DefinitionNode, DocumentNode, FieldNode, FragmentDefinitionNode, Kind, OperationDefinitionNode, OperationTypeNode, parse, print, visit } from 'graphql';

/** One operation of a GraphQL document, ready to send on its own. */
export interface Operation {
  name: string;
  kind: OperationTypeNode;
  /** The operation and the fragments it spreads (transitively), as a client sends it. */
  text: string;
  /** The response key of its (first) root field: `webhookCalls` for WebhookCallsCount. */
  rootField: string;
  takesVariables: boolean;
}

/** Every named operation of `source` (e.g. contract/operations.graphql). */
export function readOperations(source: string): Operation[] {
  const document = parse(source);
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  return document.definitions
    .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
    .map((operation) => {
      const needed = new Map<string, FragmentDefinitionNode>();
      const collect = (node: DefinitionNode) =>
        visit(node, {
          FragmentSpread(spread) {
            const fragment = fragments.get(spread.name.value);
            if (!fragment) throw new Error(`fragment ${spread.name.value} is spread but not defined`);
            if (!needed.has(fragment.name.value)) {
              needed.set(fragment.name.value, fragment);
              collect(fragment);
            }
          },
        });
      collect(operation);
      if (!operation.name) throw new Error('an operation without a name cannot be told apart');
      const root = operation.selectionSet.selections[0] as FieldNode;
      return {
        name: operation.name.value,
        kind: operation.operation,
        text: print({ kind: Kind.DOCUMENT, definitions: [operation, ...needed.values()] } as DocumentNode),
        rootField: (root.alias ?? root.name).value,
        takesVariables: (operation.variableDefinitions ?? []).length > 0,
      };
    });
}
