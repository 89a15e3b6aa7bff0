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

// Node's socket errors for a store that cannot be reached, and PostgreSQL's SQLSTATEs for a
// connection that failed or a server that is shutting down or starting (class 08, 57P01-57P03).
const UNREACHABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const UNAVAILABLE_SQLSTATES = /^(08...|57P0[123]|53300)$/;
// What pg and ioredis say when a connection dies or cannot be had in time.
const UNAVAILABLE_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Connection is closed|Reached the max retries per request limit|Client has encountered a connection error|Stream isn't writeable)/;

/**
 * Whether an error means a store (PostgreSQL, Redis) could not be reached or dropped the
 * connection: an outage the client should wait out (DEPENDENCY_UNAVAILABLE), not a bug.
 * Looks through the wrappers TypeORM, GraphQL and `cause` put around the driver's error (pg can
 * reject with a plain object, which GraphQL wraps as `thrownValue`).
 */
export function isStoreUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  const { code, message, name, originalError, driverError, cause, thrownValue } = error as {
    code?: unknown;
    message?: unknown;
    name?: unknown;
    originalError?: unknown;
    driverError?: unknown;
    cause?: unknown;
    thrownValue?: unknown;
  };
  if (typeof code === 'string' && (UNREACHABLE_SOCKET_CODES.has(code) || UNAVAILABLE_SQLSTATES.test(code))) {
    return true;
  }
  if (name === 'MaxRetriesPerRequestError') return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return true;
  return [originalError, driverError, cause, thrownValue].some((inner) =>
    isStoreUnavailable(inner, depth + 1),
  );
}
