import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  type DocumentNode,
  type FieldNode,
  type OperationDefinitionNode,
  type ValueNode,
} from 'graphql';

/** A field added to the query so that the stream knows the status even when the client did not ask for it. */
export const STATUS_PROBE = '__orderStatusForStream';

export interface OrderStatusQuery {
  /** `query { <alias or orderStatus>: order(id: ...) { <the client's selection> } }`, fragments kept. */
  document: DocumentNode;
  orderId: string;
  /** Where the order sits in the response: the client's alias, or `orderStatus`. */
  responseKey: string;
}

function badInput(message: string) {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

function valueOf(node: ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  if (node.kind === Kind.VARIABLE) return variables?.[node.name.value];
  if (node.kind === Kind.STRING || node.kind === Kind.INT) return node.value;
  return undefined;
}

/**
 * Turns `subscription { orderStatus(orderId: ...) { ...selection } }` into the query the gateway
 * executes for each status change: the same selection (fields of any subgraph, fragments, aliases
 * and variables kept) on `order(id: ...)`, so federation resolves it like any query.
 */
export function toOrderStatusQuery(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
): OrderStatusQuery {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = operationName
    ? operations.find(({ name }) => name?.value === operationName)
    : operations[0];
  if (!operation || operation.operation !== OperationTypeNode.SUBSCRIPTION) {
    throw badInput('Expected a subscription operation');
  }
  const [field, ...others] = operation.selectionSet.selections;
  if (!field || others.length > 0 || field.kind !== Kind.FIELD || field.name.value !== 'orderStatus') {
    throw badInput('A subscription selects exactly one field: orderStatus');
  }
  const argument = field.arguments?.find(({ name }) => name.value === 'orderId');
  const orderId = argument ? valueOf(argument.value, variables) : undefined;
  if (typeof orderId !== 'string' && typeof orderId !== 'number')
    throw badInput('orderStatus needs an orderId');

  const probe: FieldNode = {
    kind: Kind.FIELD,
    alias: { kind: Kind.NAME, value: STATUS_PROBE },
    name: { kind: Kind.NAME, value: 'status' },
  };
  const responseKey = field.alias?.value ?? 'orderStatus';
  const orderField: FieldNode = {
    ...field,
    alias: { kind: Kind.NAME, value: responseKey },
    name: { kind: Kind.NAME, value: 'order' },
    arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'id' }, value: argument!.value }],
    selectionSet: {
      kind: Kind.SELECTION_SET,
      selections: [...(field.selectionSet?.selections ?? []), probe],
    },
  };
  const query: OperationDefinitionNode = {
    ...operation,
    operation: OperationTypeNode.QUERY,
    selectionSet: { kind: Kind.SELECTION_SET, selections: [orderField] },
  };
  return {
    document: {
      kind: Kind.DOCUMENT,
      definitions: [query, ...document.definitions.filter(({ kind }) => kind === Kind.FRAGMENT_DEFINITION)],
    },
    orderId: String(orderId),
    responseKey,
  };
}
