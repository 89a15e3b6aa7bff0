import { isRowId } from '@brokerage/service';
import { visibleOrder } from './order-visibility';
import type { OrderResolvers } from '../generated/resolvers-types';

export const Order: OrderResolvers = {
  __resolveReference: async ({ id }, { orderById, caller }) =>
    isRowId(id) ? visibleOrder(await orderById.load(id), caller) : null,
  // References the users and stocks subgraphs resolve: the gateway joins.
  user: ({ userId }) => ({ id: userId }),
  stock: ({ stockId }) => ({ id: stockId }),
};
