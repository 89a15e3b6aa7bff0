import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  GraphQLError,
  type ASTVisitor,
  type OperationDefinitionNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { operationCost } from './operation-cost';
import { fragmentsOf } from './root-fields';

export interface OperationLimits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
}

type Limit = 'depth' | 'aliases' | 'cost';

const WHAT: Record<Limit, string> = {
  depth: 'is nested',
  aliases: 'has aliases:',
  cost: 'would cost',
};

function limitError(
  operation: OperationDefinitionNode | undefined,
  limit: Limit,
  actual: number | undefined,
  allowed: number,
): GraphQLError {
  const measured = actual === undefined ? '' : ` ${actual};`;
  return new GraphQLError(`The operation ${WHAT[limit]}${measured} at most ${allowed} is allowed`, {
    nodes: operation ? [operation] : undefined,
    extensions: { limit, actual, allowed },
  });
}

/** graphql-armor's own message ends with what it measured: "... exceeded, found 12." */
function measuredIn(error: GraphQLError): number | undefined {
  const found = /found (\d+)/.exec(error.message);
  return found ? Number(found[1]) : undefined;
}

type ArmorRule = (options: {
  n: number;
  propagateOnRejection: boolean;
  onReject: Array<(context: ValidationContext | null, error: GraphQLError) => void>;
}) => ValidationRule;

/**
 * One of graphql-armor's rules, reporting as every limit of this gateway does: a validation error
 * that names the limit in `extensions.limit` (armor's default throws out of validation).
 */
function armored(armorRule: ArmorRule, limit: Limit, allowed: number, options: object): ValidationRule {
  return (context) => {
    let operation: OperationDefinitionNode | undefined;
    const visitor = armorRule({
      ...options,
      n: allowed,
      propagateOnRejection: false,
      onReject: [
        (_context, error) => context.reportError(limitError(operation, limit, measuredIn(error), allowed)),
      ],
    })(context) as ASTVisitor & { OperationDefinition: { enter(node: OperationDefinitionNode): void } };
    return {
      OperationDefinition: {
        enter(node) {
          operation = node;
          visitor.OperationDefinition.enter.call(visitor, node);
        },
      },
    };
  };
}

/**
 * Validation rules that refuse an operation too deep, with too many aliases or too costly to run,
 * before the gateway plans it. They fail with GRAPHQL_VALIDATION_FAILED and say which limit in
 * `extensions.limit`. Depth and aliases are graphql-armor's rules, set to see introspection
 * (`__schema`, `__type`, `__typename`) like any other field and fragments as the fields they hold;
 * cost is the gateway's own (`operationCost`: list sizes from page arguments, which armor's cost
 * rule does not model).
 */
export function operationLimitRules(limits: OperationLimits): ValidationRule[] {
  const depth = armored(maxDepthRule, 'depth', limits.maxDepth, {
    ignoreIntrospection: false,
    flattenFragments: true,
  });
  const aliases = armored(maxAliasesRule, 'aliases', limits.maxAliases, { allowList: [] });
  const cost: ValidationRule = (context) => ({
    OperationDefinition(operation) {
      const actual = operationCost(context.getSchema(), fragmentsOf(context.getDocument()), operation);
      if (actual > limits.maxCost) context.reportError(limitError(operation, 'cost', actual, limits.maxCost));
      return false;
    },
  });
  return [depth, aliases, cost];
}
