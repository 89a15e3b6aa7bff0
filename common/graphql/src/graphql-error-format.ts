import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode, isStoreUnavailable } from '@brokerage/service';

const STORE_UNAVAILABLE_MESSAGE = 'A store this service needs is unavailable; try again shortly';

// Extensions that describe the inside of the platform: a subgraph's stack, which service failed.
const INTERNAL_EXTENSIONS = new Set(['stacktrace', 'exception', 'serviceName']);

/**
 * Apollo's `formatError`: a store that is unavailable is a DEPENDENCY_UNAVAILABLE the client
 * retries; in production, unexpected errors get a generic message, and no error carries internals,
 * even one passed on from a subgraph that was not itself started in production mode.
 */
export function formatErrorFor(nodeEnv: string) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if ((code === undefined || code === ErrorCode.INTERNAL_SERVER_ERROR) && isStoreUnavailable(error)) {
      // A store that is down or unreachable: the client retries, rather than reporting a bug.
      return {
        message: STORE_UNAVAILABLE_MESSAGE,
        path: formatted.path,
        locations: formatted.locations,
        extensions: { code: ErrorCode.DEPENDENCY_UNAVAILABLE },
      };
    }
    if (nodeEnv !== 'production') return formatted;
    if (code === undefined || code === ErrorCode.INTERNAL_SERVER_ERROR) {
      return {
        message: 'Internal server error',
        path: formatted.path,
        locations: formatted.locations,
        extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
      };
    }
    const extensions = Object.fromEntries(
      Object.entries(formatted.extensions ?? {}).filter(([key]) => !INTERNAL_EXTENSIONS.has(key)),
    );
    return { ...formatted, extensions };
  };
}
