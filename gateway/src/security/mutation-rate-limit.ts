import type { ApolloServerPlugin } from '@apollo/server';
import { type RequestContext } from '@brokerage/graphql';
import { codedError, ErrorCode, type Logger } from '@brokerage/service';
import { OperationTypeNode } from 'graphql';
import { Counter, type Registry } from 'prom-client';
import type { RateLimiter } from './rate-limiter';
import { fragmentsOf, rootFieldCount } from './root-fields';

/** What the rate limit needs to know about a request beyond the caller. */
export interface RateLimitedContext extends RequestContext {
  clientAddress: string;
}

/**
 * Counts every mutation against its caller's budget (the user, or the client's address when
 * anonymous; admins are exempt) before it is planned. Over budget, the operation fails with RATE_LIMITED, HTTP 429 and
 * a Retry-After. If Redis cannot answer, the request goes through: a rate limit protects the
 * service, and it must not become the reason the service is down.
 */
export function mutationRateLimitPlugin<C extends RateLimitedContext>(
  limiter: RateLimiter,
  logger: Logger,
  registry: Registry,
): ApolloServerPlugin<C> {
  const refused = new Counter({
    name: 'graphql_rate_limited_total',
    help: 'Mutations refused because their caller was over its rate limit',
    registers: [registry],
  });
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request, contextValue, response }) {
          if (operation?.operation !== OperationTypeNode.MUTATION) return;
          const { caller } = contextValue;
          // The back office (admins) loads data in bulk, e.g. the demo seed; its tokens are not public.
          if (caller.kind === 'user' && caller.admin) return;
          const key = caller.kind === 'user' ? `user:${caller.userId}` : `ip:${contextValue.clientAddress}`;
          // Each root field that will run is one mutation, wherever fragments put it: neither
          // aliases nor fragments batch past the limit.
          const mutations = rootFieldCount(schema, fragmentsOf(document), operation, request.variables);
          let verdict;
          try {
            verdict = await limiter.consume(key, mutations);
          } catch (error) {
            logger.warn({ err: error }, 'rate limit not checked: Redis did not answer');
            return;
          }
          if (verdict.allowed) return;
          refused.inc();
          const retryAfterSeconds = Math.max(1, Math.ceil(verdict.resetMs / 1000));
          response.http.headers.set('retry-after', String(retryAfterSeconds));
          throw codedError(
            ErrorCode.RATE_LIMITED,
            `Too many mutations: try again in ${retryAfterSeconds} s`,
            { retryAfterSeconds, http: { status: 429 } },
          );
        },
      };
    },
  };
}
