import type { ApolloServerPlugin } from '@apollo/server';
import { codedError, ErrorCode, type Logger } from '@brokerage/service';
import { OperationTypeNode, type OperationDefinitionNode } from 'graphql';
import { Counter, type Registry } from 'prom-client';
import type { CostBudget } from './cost-budget';
import type { RateLimitedContext } from './mutation-rate-limit';
import { operationCost } from './operation-cost';
import { fragmentsOf } from './root-fields';

export interface ReadBudgetContext extends RateLimitedContext {
  /**
   * A read the gateway runs for the client after the client's own operation paid for it (each
   * next state of a subscription): not charged again.
   */
  readPaid?: boolean;
}

/** Response headers a client paces itself with, named as GitHub's API names them. */
export const BUDGET_HEADERS = {
  limit: 'x-ratelimit-limit',
  remaining: 'x-ratelimit-remaining',
  /** When the window ends, in UTC epoch seconds. */
  reset: 'x-ratelimit-reset',
  cost: 'x-ratelimit-cost',
} as const;

/**
 * Charges every query its cost (the cost the operation limits compute: fields times the sizes of
 * the lists around them) against its caller's budget per window: the user, or the client's
 * address when anonymous; admins are exempt, as for mutations. Every charged answer carries the
 * budget in headers; over budget, the query fails with RATE_LIMITED, HTTP 429, a Retry-After and
 * `extensions.cost`, and spends nothing. If Redis cannot answer, the query goes through.
 */
export function readBudgetPlugin<C extends ReadBudgetContext>(
  budget: CostBudget,
  logger: Logger,
  registry: Registry,
): ApolloServerPlugin<C> {
  const refused = new Counter({
    name: 'graphql_read_budget_refused_total',
    help: 'Queries refused because their caller had spent its read budget',
    registers: [registry],
  });
  // Apollo keeps one parsed document per distinct query text, so each is priced once.
  const costs = new WeakMap<OperationDefinitionNode, number>();
  const { limit } = budget.options;
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, contextValue, response }) {
          if (operation?.operation !== OperationTypeNode.QUERY || contextValue.readPaid) return;
          const { caller } = contextValue;
          if (caller.kind === 'user' && caller.admin) return;
          let cost = costs.get(operation);
          if (cost === undefined) {
            cost = operationCost(schema, fragmentsOf(document), operation);
            costs.set(operation, cost);
          }
          const key = caller.kind === 'user' ? `user:${caller.userId}` : `ip:${contextValue.clientAddress}`;
          let verdict;
          try {
            verdict = await budget.spend(key, cost);
          } catch (error) {
            logger.warn({ err: error }, 'read budget not checked: Redis did not answer');
            return;
          }
          const headers = response.http.headers;
          headers.set(BUDGET_HEADERS.limit, String(limit));
          headers.set(BUDGET_HEADERS.remaining, String(verdict.remaining));
          headers.set(BUDGET_HEADERS.reset, String(Math.ceil((Date.now() + verdict.resetMs) / 1000)));
          headers.set(BUDGET_HEADERS.cost, String(cost));
          if (verdict.allowed) return;
          refused.inc();
          const retryAfterSeconds = Math.max(1, Math.ceil(verdict.resetMs / 1000));
          headers.set('retry-after', String(retryAfterSeconds));
          throw codedError(
            ErrorCode.RATE_LIMITED,
            `This query costs ${cost} points and ${verdict.remaining} of ${limit} are left: try again in ${retryAfterSeconds} s`,
            { cost, budget: limit, remaining: verdict.remaining, retryAfterSeconds, http: { status: 429 } },
          );
        },
      };
    },
  };
}
