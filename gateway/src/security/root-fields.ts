import type { DocumentNode, FragmentDefinitionNode, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { Kind } from 'graphql';
import { collectFields } from 'graphql/execution/collectFields';
import { getVariableValues } from 'graphql/execution/values';

/**
 * How many root fields an operation will execute: its selection with inline fragments and
 * fragment spreads expanded and @skip/@include applied with the request's variables, by
 * graphql-js's own field collection (what `execute` runs). Fields under one response key run
 * once, so they count once. Variables that do not coerce count every field: such an operation is
 * refused before it runs anyway, and counting more is the safe side.
 */
export function rootFieldCount(
  schema: GraphQLSchema,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
): number {
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) return 1;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  if (coerced.errors) return Math.max(1, countWithoutConditions(fragments, operation));
  const fields = collectFields(schema, fragments, coerced.coerced, rootType, operation.selectionSet);
  return Math.max(1, fields.size);
}

/** Every root field's response key, whatever its @skip/@include say. */
function countWithoutConditions(
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  operation: OperationDefinitionNode,
): number {
  const keys = new Set<string>();
  const visited = new Set<string>();
  const visit = (selections: OperationDefinitionNode['selectionSet']['selections']) => {
    for (const selection of selections) {
      if (selection.kind === Kind.FIELD) keys.add((selection.alias ?? selection.name).value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet.selections);
      else if (!visited.has(selection.name.value)) {
        visited.add(selection.name.value);
        const fragment = fragments[selection.name.value];
        if (fragment) visit(fragment.selectionSet.selections);
      }
    }
  };
  visit(operation.selectionSet.selections);
  return keys.size;
}

/** The document's fragments by name, as execution looks them up. */
export function fragmentsOf(document: DocumentNode): Record<string, FragmentDefinitionNode> {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  return fragments;
}
