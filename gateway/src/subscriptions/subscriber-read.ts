import type { ApolloServer } from '@apollo/server';
import type { DocumentNode, ExecutionArgs, ExecutionResult } from 'graphql';
import type { GatewayContext } from '../gateway-context';

export type SubscriptionResult = ExecutionResult<Record<string, unknown>>;

/**
 * Runs a read for a subscriber through the gateway (planning, the subgraphs, the caller's rights
 * and the read budget, as for a query over HTTP), in the subscription's context. Only a
 * subscription's first read is charged to the read budget: a `paid` one is not charged again.
 */
export async function readThroughGateway(
  apollo: ApolloServer<GatewayContext>,
  document: DocumentNode,
  args: ExecutionArgs,
  paid: boolean,
): Promise<SubscriptionResult> {
  const context = args.contextValue as GatewayContext;
  const response = await apollo.executeOperation(
    {
      query: document,
      variables: args.variableValues ?? undefined,
      operationName: args.operationName ?? undefined,
    },
    { contextValue: paid ? { ...context, readPaid: true } : context },
  );
  if (response.body.kind !== 'single')
    throw new Error('incremental delivery is not supported over WebSocket');
  return response.body.singleResult as SubscriptionResult;
}
