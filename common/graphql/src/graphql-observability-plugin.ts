import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { trace } from '@opentelemetry/api';
import { ErrorCode, type ServiceMetrics } from '@brokerage/service';
import type { RequestContext } from './request-context';

/**
 * Logs every error with the request id, counts operations and times them, and names the request's
 * span after its operation.
 */
export function observabilityPlugin<C extends RequestContext>(
  metrics: ServiceMetrics,
): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      return {
        async didEncounterErrors({ errors, operationName }) {
          for (const error of errors) {
            const code = error.extensions?.code;
            if (code === undefined || code === ErrorCode.INTERNAL_SERVER_ERROR) {
              contextValue.logger.error(
                { err: unwrapResolverError(error), operationName },
                'operation failed',
              );
            } else {
              contextValue.logger.debug(
                { code, message: error.message, operationName },
                'operation rejected',
              );
            }
          }
        },
        async didResolveOperation({ operationName, operation }) {
          // Named after the operation, so that traces read as the API does.
          trace
            .getActiveSpan()
            ?.updateName(`${operation?.operation ?? 'graphql'} ${operationName ?? 'anonymous'}`)
            .setAttributes({
              'graphql.operation.name': operationName ?? 'anonymous',
              'graphql.operation.type': operation?.operation ?? 'unknown',
            });
        },
        async willSendResponse({ operationName, response }) {
          const operation = operationName ?? 'anonymous';
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const failed =
            response.body.kind === 'single' && (response.body.singleResult.errors?.length ?? 0) > 0;
          metrics.graphqlOperations.inc({ operation, outcome: failed ? 'error' : 'ok' });
          metrics.graphqlDuration.observe({ operation }, seconds);
        },
      };
    },
  };
}
