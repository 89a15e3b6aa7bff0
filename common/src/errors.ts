import { GraphQLError } from 'graphql';

/**
 * The stable `extensions.code` values clients can rely on. Apollo's own (BAD_USER_INPUT,
 * GRAPHQL_VALIDATION_FAILED, INTERNAL_SERVER_ERROR, ...) keep their names.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  USER_NOT_FOUND: 'USER_NOT_FOUND',
  DEPENDENCY_UNAVAILABLE: 'DEPENDENCY_UNAVAILABLE',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export function codedError(
  code: string,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

/** A request that can never succeed as sent; `field` names the argument at fault. */
export function badUserInput(message: string, field?: string): GraphQLError {
  return codedError(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});
}
