import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { GraphQLDate, GraphQLDateTime } from 'graphql-scalars';

const MONEY_RULE = 'Money must be a whole number of the smallest currency unit, at most 2^53-1 in size';

function toMoney(value: unknown, ast?: ValueNode): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new GraphQLError(`${MONEY_RULE}; got ${JSON.stringify(value) ?? String(value)}`, {
      nodes: ast ? [ast] : undefined,
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return value;
}

/**
 * Money: an exact integer amount in the smallest currency unit, up to 2^53-1 (beyond GraphQL's
 * 32-bit Int, within what JSON and JavaScript numbers hold exactly). Never a float, never a string.
 */
export const MoneyScalar = new GraphQLScalarType<number, number>({
  name: 'Money',
  description: 'An exact amount in the smallest currency unit: an integer between -(2^53-1) and 2^53-1.',
  serialize: (value) => toMoney(value),
  parseValue: (value) => toMoney(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.INT) throw new GraphQLError(`${MONEY_RULE}; got a ${ast.kind}`, { nodes: [ast] });
    return toMoney(Number(ast.value), ast);
  },
});

/** DateTime: an ISO-8601 timestamp with time zone, e.g. 2026-11-21T09:30:00.000Z. */
export const DateTimeScalar = GraphQLDateTime;

/** Date: a calendar date, e.g. 2026-11-21. */
export const DateScalar = GraphQLDate;

/** Money values come from bigint columns as strings; they must fit a safe integer to be exact. */
export function moneyFromColumn(value: string | number): number {
  const amount = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(amount)) throw new Error(`money value ${value} is not a safe integer`);
  return amount;
}
