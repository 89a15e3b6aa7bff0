import { formatErrorFor } from '@brokerage/graphql';
import type { GraphQLFormattedError } from 'graphql';

/** Extensions a client may see in production: what to act on, nothing of the inside. */
const PUBLIC_EXTENSIONS = new Set([
  'code',
  // BAD_USER_INPUT: the argument at fault.
  'field',
  // GRAPHQL_VALIDATION_FAILED: which operation limit, what was measured, what is allowed.
  'limit',
  'actual',
  'allowed',
  // RATE_LIMITED: when to come back; for the read budget, what the operation costs and what is left.
  'retryAfterSeconds',
  'cost',
  'budget',
  'remaining',
]);

/**
 * Codes that say nothing a client can act on: an error without a code, and Apollo Gateway's code
 * for a subgraph error that had none. Their messages can be anything a subgraph said (SQL, a
 * stack, a host name), so they are answered as an internal error.
 */
const OPAQUE_CODES = new Set([undefined, 'INTERNAL_SERVER_ERROR', 'DOWNSTREAM_SERVICE_ERROR']);

const DEPENDENCY_UNAVAILABLE_MESSAGE = 'Something this operation needs is unavailable; try again shortly';

/**
 * The gateway's errors as clients see them. In production: no stack trace, no service name, no
 * subgraph's internals (SQL, addresses, its HTTP answer): the shared masking, then only the
 * public extensions, and a dependency's outage without naming which one.
 */
export function gatewayErrorFormatter(nodeEnv: string) {
  const shared = formatErrorFor(nodeEnv);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const masked = shared(formatted, error);
    if (nodeEnv !== 'production') return masked;
    const code = masked.extensions?.code as string | undefined;
    if (OPAQUE_CODES.has(code)) {
      return {
        message: 'Internal server error',
        path: masked.path,
        locations: masked.locations,
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      };
    }
    const extensions = Object.fromEntries(
      Object.entries(masked.extensions ?? {}).filter(([key]) => PUBLIC_EXTENSIONS.has(key)),
    );
    const message = code === 'DEPENDENCY_UNAVAILABLE' ? DEPENDENCY_UNAVAILABLE_MESSAGE : masked.message;
    return { ...masked, message, extensions };
  };
}
