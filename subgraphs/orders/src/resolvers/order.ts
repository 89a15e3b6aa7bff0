import { isRowId } from '@brokerage/common';
import type { OrderResolvers } from '../generated/resolvers-types';

export const Order: OrderResolvers = {
  __resolveReference: ({ id }, { orderById }) => (isRowId(id) ? orderById.load(id) : null),
  // References the users and stocks subgraphs resolve: the gateway joins.
  user: ({ userId }) => ({ id: userId }),
  stock: ({ stockId }) => ({ id: stockId }),
};
