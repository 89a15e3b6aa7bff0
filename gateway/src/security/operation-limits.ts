import {
  getNamedType,
  GraphQLError,
  isCompositeType,
  isListType,
  isNonNullType,
  Kind,
  type GraphQLCompositeType,
  type GraphQLOutputType,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  type ValueNode,
} from 'graphql';

export interface OperationLimits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
}

/** What a page argument costs when it is a variable (unknown while validating): the largest page allowed. */
const MAX_PAGE_SIZE = 100;
/** What a list without a page argument is assumed to hold. */
const ASSUMED_LIST_SIZE = 10;

interface Measure {
  depth: number;
  aliases: number;
  cost: number;
}

function pageSizeOf(argument: ValueNode | undefined): number {
  if (argument === undefined) return ASSUMED_LIST_SIZE;
  if (argument.kind === Kind.INT) return Math.max(1, Math.min(Number(argument.value), MAX_PAGE_SIZE));
  return MAX_PAGE_SIZE;
}

function isList(type: GraphQLOutputType): boolean {
  const inner = isNonNullType(type) ? type.ofType : type;
  return isListType(inner);
}

/**
 * Measures one operation the way it will run: fragments inlined, each field costing 1 times the
 * sizes of the lists around it (a list's size is its `pageSize` argument, or an assumed size).
 * A fragment spread already on the path is not followed again (graphql's own rule reports cycles).
 */
function measure(
  context: ValidationContext,
  selectionSet: SelectionSetNode,
  parentType: GraphQLCompositeType,
  multiplier: number,
  depth: number,
  spreads: ReadonlySet<string>,
  totals: Measure,
): void {
  const schema = context.getSchema();
  for (const selection of selectionSet.selections) {
    switch (selection.kind) {
      case Kind.FIELD: {
        if (selection.alias) totals.aliases += 1;
        totals.cost += multiplier;
        totals.depth = Math.max(totals.depth, depth);
        if (!selection.selectionSet || !('getFields' in parentType)) break;
        const field = parentType.getFields()[selection.name.value];
        if (!field) break;
        const childType = getNamedType(field.type);
        if (!isCompositeType(childType)) break;
        const pageSize = selection.arguments?.find((argument) => argument.name.value === 'pageSize');
        const size = isList(field.type) ? pageSizeOf(pageSize?.value) : 1;
        measure(context, selection.selectionSet, childType, multiplier * size, depth + 1, spreads, totals);
        break;
      }
      case Kind.INLINE_FRAGMENT: {
        const typeName = selection.typeCondition?.name.value;
        const type = typeName ? schema.getType(typeName) : parentType;
        if (type && isCompositeType(type)) {
          measure(context, selection.selectionSet, type, multiplier, depth, spreads, totals);
        }
        break;
      }
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        const fragment = context.getFragment(name);
        if (!fragment || spreads.has(name)) break;
        const type = schema.getType(fragment.typeCondition.name.value);
        if (type && isCompositeType(type)) {
          const path = new Set(spreads).add(name);
          measure(context, fragment.selectionSet, type, multiplier, depth, path, totals);
        }
        break;
      }
    }
  }
}

/**
 * Validation rules that refuse an operation too deep, with too many aliases or too costly to run,
 * before the gateway plans it. They fail with GRAPHQL_VALIDATION_FAILED and say which limit in
 * `extensions.limit`.
 */
export function operationLimitRules(limits: OperationLimits): ValidationRule[] {
  const rule: ValidationRule = (context) => ({
    OperationDefinition(operation) {
      const root = context.getSchema().getRootType(operation.operation);
      if (!root) return;
      const totals: Measure = { depth: 0, aliases: 0, cost: 0 };
      measure(context, operation.selectionSet, root, 1, 1, new Set(), totals);
      const report = (limit: string, actual: number, allowed: number, what: string) =>
        context.reportError(
          new GraphQLError(`The operation ${what} ${actual}; at most ${allowed} is allowed`, {
            nodes: [operation],
            extensions: { limit, actual, allowed },
          }),
        );
      if (totals.depth > limits.maxDepth) report('depth', totals.depth, limits.maxDepth, 'is nested');
      if (totals.aliases > limits.maxAliases)
        report('aliases', totals.aliases, limits.maxAliases, 'has aliases:');
      if (totals.cost > limits.maxCost) report('cost', totals.cost, limits.maxCost, 'would cost');
      return false;
    },
  });
  return [rule];
}
