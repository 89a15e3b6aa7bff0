import {
  getNamedType,
  isCompositeType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/** What a page argument costs when it is a variable (unknown while validating): the largest page allowed. */
const MAX_PAGE_SIZE = 100;
/** What a list without a page argument is assumed to hold. */
const ASSUMED_LIST_SIZE = 10;

function pageSizeOf(argument: ValueNode | undefined): number {
  if (argument === undefined) return ASSUMED_LIST_SIZE;
  if (argument.kind === Kind.INT) return Math.max(1, Math.min(Number(argument.value), MAX_PAGE_SIZE));
  return MAX_PAGE_SIZE;
}

/**
 * A cursor connection (GraphQL Cursor Connections): an object with `edges` and `pageInfo`, reached
 * through a field that takes `first` or `last`. Its `edges` list holds `first` (or `last`) edges.
 */
function isConnection(field: GraphQLField<unknown, unknown>): boolean {
  const type = getNamedType(field.type);
  if (isList(field.type) || !isObjectType(type)) return false;
  const fields = type.getFields();
  return (
    'edges' in fields &&
    'pageInfo' in fields &&
    field.args.some(({ name }) => name === 'first' || name === 'last')
  );
}

/** How many edges a connection field asks for: its `first`, else its `last`, else the default page. */
function edgesOf(node: FieldNode): number {
  const argument = (name: string) => node.arguments?.find((candidate) => candidate.name.value === name);
  const given = argument('first') ?? argument('last');
  return pageSizeOf(given?.value.kind === Kind.NULL ? undefined : given?.value);
}

function isList(type: GraphQLOutputType): boolean {
  const inner = isNonNullType(type) ? type.ofType : type;
  return isListType(inner);
}

/**
 * The definition of a selected field, introspection's own fields included: `__schema` and
 * `__type` (on the query type) and `__typename` (anywhere) are answered like any other field and
 * are priced and limited like one.
 */
function fieldDefinition(
  schema: GraphQLSchema,
  parentType: GraphQLCompositeType,
  node: FieldNode,
): GraphQLField<unknown, unknown> | undefined {
  const name = node.name.value;
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  if (parentType === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return 'getFields' in parentType ? parentType.getFields()[name] : undefined;
}

/**
 * What one operation costs to run: fragments inlined, each field costing 1 times the sizes of the
 * lists around it (a list's size is its `pageSize` argument, or an assumed size; a connection's
 * `edges` hold its `first` or `last`, so a connection page costs what an offset page of that size
 * does). A fragment
 * spread already on the path is not followed again (graphql's own rule reports cycles).
 */
export function operationCost(
  schema: GraphQLSchema,
  fragments: Readonly<Record<string, FragmentDefinitionNode | undefined>>,
  operation: OperationDefinitionNode,
): number {
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  // A fragment costs its multiplier times what it costs once: priced once per operation, however
  // often and deeply it is spread (spreads that double at each level would otherwise take
  // exponential time).
  const fragmentCosts = new Map<string, number>();
  // `edges`: the size of the `edges` list of the connection this selection set is of, if it is one.
  const costOf = (
    selectionSet: SelectionSetNode,
    parentType: GraphQLCompositeType,
    multiplier: number,
    spreads: ReadonlySet<string>,
    edges?: number,
  ): number => {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      switch (selection.kind) {
        case Kind.FIELD: {
          cost += multiplier;
          if (!selection.selectionSet) break;
          const field = fieldDefinition(schema, parentType, selection);
          if (!field) break;
          const childType = getNamedType(field.type);
          if (!isCompositeType(childType)) break;
          if (isConnection(field)) {
            cost += costOf(selection.selectionSet, childType, multiplier, spreads, edgesOf(selection));
            break;
          }
          const pageSize = selection.arguments?.find((argument) => argument.name.value === 'pageSize');
          const size = !isList(field.type)
            ? 1
            : edges !== undefined && field.name === 'edges'
              ? edges
              : pageSizeOf(pageSize?.value);
          cost += costOf(selection.selectionSet, childType, multiplier * size, spreads);
          break;
        }
        case Kind.INLINE_FRAGMENT: {
          const typeName = selection.typeCondition?.name.value;
          const type = typeName ? schema.getType(typeName) : parentType;
          if (type && isCompositeType(type))
            cost += costOf(selection.selectionSet, type, multiplier, spreads, edges);
          break;
        }
        case Kind.FRAGMENT_SPREAD: {
          const name = selection.name.value;
          // A fragment on a connection costs by the connection's size: priced once per size.
          const key = edges === undefined ? name : `${name}:${edges}`;
          let fragmentCost = fragmentCosts.get(key);
          if (fragmentCost === undefined) {
            const fragment = fragments[name];
            if (!fragment || spreads.has(name)) break;
            const type = schema.getType(fragment.typeCondition.name.value);
            if (!type || !isCompositeType(type)) break;
            fragmentCost = costOf(fragment.selectionSet, type, 1, new Set(spreads).add(name), edges);
            fragmentCosts.set(key, fragmentCost);
          }
          cost += multiplier * fragmentCost;
          break;
        }
      }
    }
    return cost;
  };
  return costOf(operation.selectionSet, root, 1, new Set());
}
