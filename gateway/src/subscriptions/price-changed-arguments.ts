import { codedError } from '@brokerage/service';
import {
  GraphQLError,
  Kind,
  type ExecutionArgs,
  type OperationDefinitionNode,
  type ValueNode,
} from 'graphql';
import type { SubscriptionResult } from './subscriber-read';

/** The most stocks one subscription may watch (the stocks subgraph's own limit per request). */
export const MAX_PRICE_SYMBOLS = 50;
const SYMBOL = /^[A-Za-z0-9_]{1,32}$/;

function badInput(message: string) {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

function operationOf(args: ExecutionArgs): OperationDefinitionNode | undefined {
  const operations = args.document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  return args.operationName
    ? operations.find(({ name }) => name?.value === args.operationName)
    : operations[0];
}

/** Whether a subscription operation is `priceChanged` (its one root field). */
export function isPriceChanged(args: ExecutionArgs): boolean {
  const [field] = operationOf(args)?.selectionSet.selections ?? [];
  return field?.kind === Kind.FIELD && field.name.value === 'priceChanged';
}

function symbolsOf(node: ValueNode, variables: ExecutionArgs['variableValues']): unknown {
  if (node.kind === Kind.VARIABLE) return variables?.[node.name.value];
  if (node.kind === Kind.LIST) return node.values.map((value) => symbolsOf(value, variables));
  if (node.kind === Kind.STRING) return node.value;
  return undefined;
}

/**
 * The stocks a `priceChanged` operation asks for (lower-cased, each once), or the errors that
 * refuse it: one root field, 1 to MAX_PRICE_SYMBOLS symbols of letters, digits and underscores.
 */
export function priceChangedSymbols(args: ExecutionArgs): string[] | SubscriptionResult {
  const operation = operationOf(args)!;
  const [field, ...others] = operation.selectionSet.selections;
  if (others.length > 0 || field?.kind !== Kind.FIELD)
    return { errors: [badInput('A subscription selects exactly one field: priceChanged')] };
  const argument = field.arguments?.find(({ name }) => name.value === 'symbols');
  const asked = argument ? symbolsOf(argument.value, args.variableValues) : undefined;
  if (!Array.isArray(asked) || asked.some((symbol) => typeof symbol !== 'string'))
    return { errors: [badInput('priceChanged needs a list of symbols')] };
  const symbols = [...new Set((asked as string[]).map((symbol) => symbol.toLowerCase()))];
  if (symbols.length > MAX_PRICE_SYMBOLS)
    return {
      errors: [
        codedError('TOO_MANY_SYMBOLS', `At most ${MAX_PRICE_SYMBOLS} symbols per subscription`, {
          limit: MAX_PRICE_SYMBOLS,
        }),
      ],
    };
  if (symbols.length === 0) return { errors: [badInput('priceChanged needs at least one symbol')] };
  if (symbols.some((symbol) => !SYMBOL.test(symbol)))
    return { errors: [badInput('each symbol must be 1 to 32 letters, digits or underscores')] };
  return symbols;
}
