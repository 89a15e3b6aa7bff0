import type { OrderView } from '@brokerage/orders-contract';
import {
  BREAK,
  executeSync,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';

/**
 * The fields of `Order` that an order status query selects, when it selects nothing beyond the
 * order's own fields (no `user`, no `stock`): such a selection can be answered from a status event
 * that carries the order, with no read through the subgraphs. Undefined when it needs that read.
 */
export function ownFieldsSelected(
  schema: GraphQLSchema,
  document: DocumentNode,
): ReadonlySet<string> | undefined {
  const typeInfo = new TypeInfo(schema);
  const fields = new Set<string>();
  let joins = false;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        if (parent === schema.getQueryType()) return undefined; // order(id: ...) itself
        if (parent?.name !== 'Order' || node.selectionSet) {
          joins = true;
          return BREAK;
        }
        if (node.name.value !== '__typename') fields.add(node.name.value);
        return undefined;
      },
    }),
  );
  return joins ? undefined : fields;
}

/** Whether `order` holds every field of `fields`. */
export function carriesAll(order: OrderView, fields: ReadonlySet<string>): boolean {
  for (const field of fields) if (!(field in order)) return false;
  return true;
}

/**
 * Executes an order status query (see `toOrderStatusQuery`) against the order an event carries,
 * with the API schema: aliases, fragments, directives, variables and `__typename` behave exactly as
 * when the gateway resolves it through the subgraphs, and the event holds the values as the API
 * renders them.
 */
export function answerFromEvent(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  order: OrderView,
): ExecutionResult<Record<string, unknown>> {
  return executeSync({
    schema,
    document,
    variableValues: variables ?? undefined,
    rootValue: { order: () => order },
  });
}
